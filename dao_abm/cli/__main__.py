"""``python -m dao_abm.cli``: the same as the ``dao-abm`` console script."""

from dao_abm.cli import main

raise SystemExit(main())
