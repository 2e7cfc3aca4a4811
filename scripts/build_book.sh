#!/usr/bin/env bash
# Build the book into _build/html, as CI and the publishing workflow do: export the shipped
# models to ONNX for the demo page (book/try_it.md), copy ONNX Runtime Web's wasm backend next
# to them, then run Jupyter Book with warnings as errors. Run it inside the environment that
# requirements.txt describes; MNIST comes from $MNIST_NPZ or Keras' download.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm fetches the page's JavaScript (ONNX Runtime Web, MathJax) once: say so before the long steps.
if [ ! -d web/node_modules/onnxruntime-web ] || [ ! -d web/node_modules/mathjax ]; then
  if ! command -v npm > /dev/null; then
    echo "build_book.sh needs Node.js's npm once, to fetch ONNX Runtime Web and MathJax into web/node_modules:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install npm    macOS: brew install node    elsewhere: https://nodejs.org/" >&2
    exit 1
  fi
fi

# The demo page's files, assembled in _offline/demo (copied to the site's demo/, _config.yml).
rm -rf _offline/demo && mkdir -p _offline/demo/ort
cp web/demo/demo.js web/demo/demo.css _offline/demo/
python -m lib.publish.export _offline/demo/models > /dev/null
if [ ! -d web/node_modules/onnxruntime-web ] || [ ! -d web/node_modules/mathjax ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
for file in ort.wasm.min.js ort-wasm-simd-threaded.wasm ort-wasm-simd-threaded.mjs; do
  cp web/node_modules/onnxruntime-web/dist/$file _offline/demo/ort/
done
# MathJax 3 (the file Sphinx would take from a CDN, and the components and fonts it loads itself),
# copied to the site's root as mathjax/ (_config.yml: html_extra_path).
rm -rf _offline/mathjax && mkdir -p _offline/mathjax
cp -r web/node_modules/mathjax/es5/tex-mml-chtml.js web/node_modules/mathjax/es5/{input,output,ui,a11y,adaptors} _offline/mathjax/

rm -rf _build
jupyter-book build . -W -n --keep-going
test -f _build/html/index.html
test -f _build/html/book/try_it.html
test -f _build/html/mathjax/tex-mml-chtml.js
if grep -lq "cdn.jsdelivr.net/npm/mathjax" _build/html/book/*.html; then
  echo "a page still loads MathJax from a CDN" >&2
  exit 1
fi
names=$(python -c "from lib.shipped import INPAINTERS; print(*INPAINTERS)")  # fails the build if it cannot be read
for name in $names; do
  test -f "_build/html/demo/models/${name}_inpainter.onnx"
done
