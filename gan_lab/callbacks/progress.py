"""The progress bar, counting epochs as a person does: "Epoch 6/6" for the last of six, not Lightning's "5/5"."""

from __future__ import annotations

from pytorch_lightning.callbacks import RichProgressBar


class ProgressBar(RichProgressBar):
    """Lightning's rich progress bar with epochs numbered from 1 (Lightning numbers them from 0 everywhere else too:
    checkpoint names and ``trainer.current_epoch`` keep its count)."""

    def _get_train_description(self, current_epoch: int) -> str:
        description = f"Epoch {current_epoch + 1}"
        if self.trainer.max_epochs is not None and self.trainer.max_epochs > 0:
            description += f"/{self.trainer.max_epochs}"
        return f"{description:{len(self.validation_description)}}"
