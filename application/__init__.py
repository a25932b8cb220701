"""The Marketplace application: commands, authorization rules, ports and settings."""
