#!/usr/bin/env python3
"""compare.py A.npy B.npy TOL: exit 0 when max |A - B| <= TOL and every row's argmax agrees."""
import sys

import numpy as np

a, b, tol = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
if a.shape != b.shape:
    sys.exit(f"shapes differ: {a.shape} vs {b.shape}")
diff = float(np.abs(a - b).max())
top1 = float((a.argmax(-1) == b.argmax(-1)).mean())
print(f"max|Δ|={diff:.3g} top1={top1:.3f}", end=" ")
sys.exit(0 if diff <= tol and top1 == 1.0 else 1)
