"""``python -m agentid`` runs the ``agentid`` command."""

from agentid.cli import main

main()
