"""One module per ``wecom-eval`` subcommand; see :mod:`wecom_eval.cli`."""
