"""Orchestration (heat): templates, stacks and the engine that builds them."""
