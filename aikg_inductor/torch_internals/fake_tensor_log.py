"""Torch's logged copy of a failed shape check, held back while an ``aikg`` command compiles a user's problem file.

When a model's forward fails shape propagation (``x @ y`` with sizes that do not match), torch logs the failure with
its traceback at ERROR on ``torch._subclasses.fake_tensor`` ("failed while attempting to run meta for ...") and then
raises it. The command reports that error itself, in one line; the logged copy would put about 18 lines of torch's
internals above it. Only that record, only on that logger, only inside the ``with`` block: a user's own
``torch.compile`` logs as torch decides.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

# Where torch 2.11 to 2.13 log it (torch/_subclasses/fake_tensor.py, FakeTensorMode._dispatch_impl);
# ``check_private_apis`` says when a release moves it.
LOGGER = "torch._subclasses.fake_tensor"
MESSAGE = "failed while attempting to run meta for"


def _not_a_failed_shape_check(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(MESSAGE)


@contextlib.contextmanager
def failed_shape_checks_unlogged() -> Iterator[None]:
    """Inside the block, torch does not log a failed shape check; it still raises it, for the caller to report."""
    logger = logging.getLogger(LOGGER)
    logger.addFilter(_not_a_failed_shape_check)
    try:
        yield
    finally:
        logger.removeFilter(_not_a_failed_shape_check)
