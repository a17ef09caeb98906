"""Sub-commands of the ``lossbook`` command, one module each (see :mod:`lossbook.cli`)."""
