"""Models: one registry, families in sub-packages (detection/, …)."""

from vision.models.config import ModelConfig, model_config, model_from_config, save_model_config
from vision.models.registry import ModelSpec, create_model, list_models, model_spec, register_model

__all__ = ["ModelConfig", "ModelSpec", "create_model", "list_models", "model_config", "model_from_config",
           "model_spec", "register_model", "save_model_config"]
