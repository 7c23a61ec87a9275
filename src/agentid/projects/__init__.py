"""Projects, their tokens and the identity handed to agents."""
