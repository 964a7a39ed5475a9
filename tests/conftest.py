"""Test-wide settings: Qt runs offscreen, torch uses few threads so 2-core CI stays fast."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
