"""Delivery: the Falcon web app served by waitress, the CLI and configuration."""
