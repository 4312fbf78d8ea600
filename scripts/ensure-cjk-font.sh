#!/usr/bin/env bash
# Make sure a CJK font is installed, so Chinese labels in figures and reports render (never boxes).
# Installs Debian's WenQuanYi Micro Hei when no Chinese font is present and we may use apt-get.
set -euo pipefail
if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null | head -n 1)" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing a CJK font (fonts-wqy-microhei) so Chinese text renders…" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null
  exit 0
fi
echo "warning: no CJK font found and cannot install one (not root or no apt-get)." >&2
echo "  Install one (Debian/Ubuntu: sudo apt-get install fonts-wqy-microhei; macOS has PingFang) or Chinese text may render as boxes." >&2
