#!/usr/bin/env bash
# Build the book into _build/html, as CI and the publishing workflow do: export the shipped
# models to ONNX for the demo page (book/try_it.md), copy ONNX Runtime Web's wasm backend next
# to them, then run Jupyter Book with warnings as errors. Run it inside the environment that
# requirements.txt describes; MNIST comes from $MNIST_NPZ or Keras' download.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m lib.export _static/demo/models > /dev/null
if [ ! -d web/node_modules/onnxruntime-web ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
mkdir -p _static/demo/ort
for file in ort.wasm.min.js ort-wasm-simd-threaded.wasm ort-wasm-simd-threaded.mjs; do
  cp web/node_modules/onnxruntime-web/dist/$file _static/demo/ort/
done

rm -rf _build
jupyter-book build . -W -n --keep-going
test -f _build/html/index.html
test -f _build/html/book/try_it.html
for name in $(python -c "from lib.inpainting import SHIPPED; print(*SHIPPED)"); do
  test -f "_build/html/_static/demo/models/${name}_inpainter.onnx"
done
