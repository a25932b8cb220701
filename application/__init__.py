"""The Marketplace application: services by context, their authorization rules, and the ports
they talk through (ports.py); adapters/ implements the ports, wibestore/ wires them."""
