"""humanoid-trials: run humanoid-robot field trials in factories (dispatch, pre-validation, results)."""

__version__ = "0.1.0"
