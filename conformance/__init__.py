"""The project's conformance harness: upstream Tempest against a throwaway stacklab.

Not part of the product (nothing under src/ imports it): ``./dev tempest`` runs it in
Tempest's own venv, and tests/conformance/ runs a fixed subset in CI.
"""
