"""Entry points (``python -m experiments.<name>``).

The numerical work runs on small matrices (tens of rows), where OpenBLAS's worker threads only spin and
contend: one thread per process is 10-20x faster here, and sweeps parallelise over processes instead.
Set before numpy loads; a user's own ``OPENBLAS_NUM_THREADS`` wins.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
