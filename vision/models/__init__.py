"""Models: one registry, families in sub-packages (detection/, …)."""

from vision.models.registry import ModelSpec, create_model, list_models, model_spec, register_model

__all__ = ["ModelSpec", "create_model", "list_models", "model_spec", "register_model"]
