"""Training building blocks: optimizers, LR schedules, weight averaging, the LR range test, tasks, the Trainer and callbacks.

Names load on first use, so ``import vision.train`` does not import torch.

* :mod:`vision.train.optim` — :func:`make_optimizer`, :data:`OPTIMIZERS`, :func:`l2_penalty`, :func:`l1_penalty`,
  :func:`regularization_penalty`, :func:`make_ema`.
* :mod:`vision.train.schedules` — :func:`make_schedule`, :data:`SCHEDULES`.
* :mod:`vision.train.lr_finder` — :func:`lr_range_test`, :class:`LRFinderResult`.
* :mod:`vision.train.task` — :class:`Task`, :class:`StepOutput`, :class:`MetricAccumulator`,
  :class:`ClassificationTask`.
* :mod:`vision.train.trainer` — :func:`fit`, :class:`Trainer`, :class:`History`, :data:`CHECKPOINT_FORMAT`,
  :data:`AMP_MODES`.
* :mod:`vision.train.distributed` — what the trainer does under ``torchrun`` (DDP, sharded loaders, rank-0 files).
* :mod:`vision.train.callbacks` — :class:`Callback`, :class:`EarlyStopping`, :class:`ModelCheckpoint`,
  :class:`CSVLogger`, :class:`ReduceLROnPlateau`, :class:`LearningRateScheduler`, :class:`LambdaCallback`,
  :class:`TerminateOnNaN`.
* :mod:`vision.train.tensorboard` — :class:`TensorBoard` (event files for ``tensorboard --logdir``).
* :mod:`vision.train.search` — :func:`search`, :class:`SearchResult`, :class:`Int`, :class:`Float`, :class:`Choice`,
  :data:`SEARCH_METHODS`.
* :mod:`vision.train.diagnose` — :func:`diagnose`, :class:`Diagnosis`, :class:`Verdict`.
"""

from __future__ import annotations

from vision.lazy import lazy_exports

#: public name → module that defines it (each module adds its own names)
_EXPORTS: dict[str, str] = {
    # optimizers, penalties, averaging
    "OPTIMIZERS": "vision.train.optim",
    "make_optimizer": "vision.train.optim",
    "l1_penalty": "vision.nn.regularization",
    "l2_penalty": "vision.nn.regularization",
    "regularization_penalty": "vision.train.optim",
    "make_ema": "vision.train.optim",
    # learning-rate schedules
    "SCHEDULES": "vision.train.schedules",
    "make_schedule": "vision.train.schedules",
    # LR range test
    "lr_range_test": "vision.train.lr_finder",
    "LRFinderResult": "vision.train.lr_finder",
    # tasks, the training loop, callbacks
    "Task": "vision.train.task",
    "StepOutput": "vision.train.task",
    "MetricAccumulator": "vision.train.task",
    "ClassificationTask": "vision.train.task",
    "Trainer": "vision.train.trainer",
    "History": "vision.train.trainer",
    "fit": "vision.train.trainer",
    "AMP_MODES": "vision.train.trainer",
    "CHECKPOINT_FORMAT": "vision.train.trainer",
    "Callback": "vision.train.callbacks",
    "EarlyStopping": "vision.train.callbacks",
    "ModelCheckpoint": "vision.train.callbacks",
    "CSVLogger": "vision.train.callbacks",
    "ReduceLROnPlateau": "vision.train.callbacks",
    "LearningRateScheduler": "vision.train.callbacks",
    "LambdaCallback": "vision.train.callbacks",
    "TerminateOnNaN": "vision.train.callbacks",
    "ProgressBar": "vision.train.callbacks",
    "TensorBoard": "vision.train.tensorboard",
    "train_classifier": "vision.train.recipes",
    "evaluate_classifier": "vision.train.recipes",
    "train_digits": "vision.train.demos",
    "DigitsRun": "vision.train.demos",
    "ClassifierRun": "vision.train.recipes",
    # hyper-parameter search, error analysis
    "search": "vision.train.search",
    "SearchResult": "vision.train.search",
    "SEARCH_METHODS": "vision.train.search",
    "Int": "vision.train.search",
    "Float": "vision.train.search",
    "Choice": "vision.train.search",
    "diagnose": "vision.train.diagnose",
    "Diagnosis": "vision.train.diagnose",
    "Verdict": "vision.train.diagnose",
}

__all__ = [
    "AMP_MODES",
    "CHECKPOINT_FORMAT",
    "OPTIMIZERS",
    "SCHEDULES",
    "SEARCH_METHODS",
    "CSVLogger",
    "Callback",
    "Choice",
    "ClassificationTask",
    "Diagnosis",
    "DigitsRun",
    "EarlyStopping",
    "Float",
    "History",
    "Int",
    "LRFinderResult",
    "LambdaCallback",
    "LearningRateScheduler",
    "MetricAccumulator",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "SearchResult",
    "StepOutput",
    "Task",
    "TerminateOnNaN",
    "ProgressBar",
    "TensorBoard",
    "train_classifier",
    "train_digits",
    "ClassifierRun",
    "Trainer",
    "Verdict",
    "diagnose",
    "evaluate_classifier",
    "fit",
    "l1_penalty",
    "l2_penalty",
    "lr_range_test",
    "make_ema",
    "make_optimizer",
    "make_schedule",
    "regularization_penalty",
    "search",
]

__getattr__, __dir__ = lazy_exports("vision.train", _EXPORTS, globals())
