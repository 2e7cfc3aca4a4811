// The book's in-browser demo: erase part of a digit, and the shipped model fills it.
//
// Everything runs on the page with ONNX Runtime Web's wasm backend, one thread (static hosting
// needs no cross-origin isolation then). The models are the book's own, exported from the
// committed weights by `python -m lib.export` when the book is built; each inpainter takes the
// corrupted digit and its mask and returns the completed digit, so this file only draws,
// collects the strokes and shows the answers. `window.inpaintDemo` exposes the state for the
// book's browser test (tests/test_browser.py).
(function () {
  "use strict";
  const SIZE = 28;
  const SCALE = 10; // screen pixels per digit pixel on the two large canvases
  const HOLE_VALUE = -1; // missing pixels are painted black, as in the paper

  const container = document.getElementById("inpaint-demo");
  if (!container) return;
  const root = new URL(container.dataset.root, document.baseURI).href; // absolute: ORT resolves paths from its own script

  const state = {
    digit: 0,
    label: null,
    pixels: new Float32Array(SIZE * SIZE).fill(-1), // the digit being edited, in [-1, 1]
    mask: new Uint8Array(SIZE * SIZE), // 1 = erased (missing)
    brush: "erase",
    brushSize: 3,
    model: null,
    fills: 0,
  };
  const sessions = {};
  let record = null;
  let digits = null;
  let lastResult = null;

  function element(tag, attributes, parent) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  // ---------------------------------------------------------------- layout
  const toolbar = element("div", { class: "demo-toolbar" }, container);
  element("label", { for: "demo-model", text: "Model " }, toolbar);
  const modelSelect = element("select", { id: "demo-model" }, toolbar);
  const eraseButton = element("button", { id: "demo-erase", type: "button", class: "active", text: "Erase" }, toolbar);
  const drawButton = element("button", { id: "demo-draw", type: "button", text: "Draw" }, toolbar);
  element("label", { for: "demo-brush", text: " Brush " }, toolbar);
  const brushSelect = element("select", { id: "demo-brush" }, toolbar);
  [1, 2, 3, 4].forEach((size) => element("option", { value: size, text: `${size} px` }, brushSelect));
  brushSelect.value = String(state.brushSize);
  const resetButton = element("button", { id: "demo-reset", type: "button", text: "Restore the digit" }, toolbar);

  const strip = element("div", { class: "demo-strip", id: "demo-strip" }, container);
  const panels = element("div", { class: "demo-panels" }, container);
  const left = element("figure", { class: "demo-panel" }, panels);
  const damaged = element("canvas", { id: "demo-damaged", width: SIZE * SCALE, height: SIZE * SCALE }, left);
  element("figcaption", { text: "Your digit: erase (red) or draw with the mouse" }, left);
  const right = element("figure", { class: "demo-panel" }, panels);
  const filled = element("canvas", { id: "demo-filled", width: SIZE * SCALE, height: SIZE * SCALE }, right);
  element("figcaption", { text: "Filled by the model" }, right);
  const chartPanel = element("figure", { class: "demo-panel demo-chart" }, panels);
  const bars = element("div", { class: "demo-bars", id: "demo-bars" }, chartPanel);
  const barNodes = [];
  for (let digit = 0; digit < 10; digit += 1) {
    const row = element("div", { class: "demo-bar-row" }, bars);
    element("span", { class: "demo-bar-label", text: String(digit) }, row);
    const track = element("span", { class: "demo-bar-track" }, row);
    const bar = element("span", { class: "demo-bar" }, track);
    const value = element("span", { class: "demo-bar-value", text: "" }, row);
    barNodes.push({ bar, value, row });
  }
  element("figcaption", { text: "The classifier's reading of the filled digit" }, chartPanel);
  const status = element("p", { class: "demo-status", id: "demo-status", text: "Loading the models…" }, container);

  // ---------------------------------------------------------------- drawing
  function grey(value) {
    return Math.round(((Math.max(-1, Math.min(1, value)) + 1) / 2) * 255);
  }

  function paint(canvas, values, mask) {
    const context = canvas.getContext("2d");
    const scale = canvas.width / SIZE;
    for (let index = 0; index < SIZE * SIZE; index += 1) {
      const level = grey(values[index]);
      context.fillStyle = mask && mask[index] ? "rgb(150, 30, 30)" : `rgb(${level}, ${level}, ${level})`;
      context.fillRect((index % SIZE) * scale, Math.floor(index / SIZE) * scale, scale, scale);
    }
  }

  function corrupted() {
    const values = new Float32Array(SIZE * SIZE);
    for (let index = 0; index < values.length; index += 1) values[index] = state.mask[index] ? HOLE_VALUE : state.pixels[index];
    return values;
  }

  function showDamaged() {
    paint(damaged, state.pixels, state.mask);
  }

  function applyBrush(event) {
    const box = damaged.getBoundingClientRect();
    const column = Math.floor(((event.clientX - box.left) / box.width) * SIZE);
    const row = Math.floor(((event.clientY - box.top) / box.height) * SIZE);
    const half = Math.floor((state.brushSize - 1) / 2);
    let changed = false;
    for (let y = row - half; y < row - half + state.brushSize; y += 1) {
      for (let x = column - half; x < column - half + state.brushSize; x += 1) {
        if (x < 0 || y < 0 || x >= SIZE || y >= SIZE) continue;
        const index = y * SIZE + x;
        if (state.brush === "erase" && !state.mask[index]) {
          state.mask[index] = 1;
          changed = true;
        } else if (state.brush === "draw" && (state.mask[index] || state.pixels[index] < 1)) {
          state.mask[index] = 0;
          state.pixels[index] = 1;
          changed = true;
        }
      }
    }
    if (changed) {
      showDamaged();
      scheduleFill();
    }
  }

  let drawing = false;
  let loaded = false; // nothing reacts before the models and digits are loaded
  damaged.addEventListener("pointerdown", (event) => {
    if (!loaded) return;
    drawing = true;
    damaged.setPointerCapture(event.pointerId);
    applyBrush(event);
  });
  damaged.addEventListener("pointermove", (event) => {
    if (drawing) applyBrush(event);
  });
  ["pointerup", "pointercancel"].forEach((name) => damaged.addEventListener(name, () => { drawing = false; }));

  function setBrush(kind) {
    state.brush = kind;
    eraseButton.classList.toggle("active", kind === "erase");
    drawButton.classList.toggle("active", kind === "draw");
  }
  eraseButton.addEventListener("click", () => setBrush("erase"));
  drawButton.addEventListener("click", () => setBrush("draw"));
  brushSelect.addEventListener("change", () => { state.brushSize = Number(brushSelect.value); });
  resetButton.addEventListener("click", () => { if (loaded) selectDigit(state.digit); });
  modelSelect.addEventListener("change", () => {
    state.model = modelSelect.value;
    if (loaded) scheduleFill();
  });

  // ---------------------------------------------------------------- inference
  function tensor(values) {
    return new ort.Tensor("float32", values, [1, SIZE, SIZE, 1]);
  }

  async function fill() {
    // What this fill answers, taken before the awaits: strokes made meanwhile go to the next fill.
    const input = { model: state.model, digit: state.digit, mask: Array.from(state.mask), pixels: Array.from(state.pixels) };
    const entry = record.inpainters[input.model];
    const [corruptedName, maskName] = entry.input_names;
    const feeds = { [corruptedName]: tensor(corrupted()), [maskName]: tensor(Float32Array.from(state.mask)) };
    const started = performance.now();
    const output = (await sessions[input.model].run(feeds))[entry.output_name].data;
    const filledAt = performance.now();
    const classifier = record.classifier;
    const probabilities = (await sessions.classifier.run({ [classifier.input_names[0]]: tensor(Float32Array.from(output)) }))[
      classifier.output_name].data;
    const finished = performance.now();
    const label = probabilities.indexOf(Math.max(...probabilities));
    state.fills += 1;
    lastResult = {
      ...input, filled: Array.from(output), probabilities: Array.from(probabilities), label,
      fillMs: filledAt - started, classifyMs: finished - filledAt, totalMs: finished - started, fills: state.fills,
    };
    paint(filled, output, null);
    barNodes.forEach((node, digit) => {
      node.bar.style.width = `${(100 * probabilities[digit]).toFixed(1)}%`;
      node.value.textContent = `${(100 * probabilities[digit]).toFixed(1)} %`;
      node.row.classList.toggle("top", digit === label);
    });
    status.textContent = `${input.model} model: filled in ${lastResult.fillMs.toFixed(1)} ms, read in ` +
      `${lastResult.classifyMs.toFixed(1)} ms (ONNX Runtime Web ${ort.env.versions.web}, wasm, 1 thread)` +
      (state.label === null ? "" : `; MNIST's label for this test digit: ${state.label}`);
    return lastResult;
  }

  let running = null;
  let pending = false;
  function scheduleFill() {
    if (running) {
      pending = true;
      return running;
    }
    running = fill().catch((error) => {
      status.textContent = `The fill failed: ${error}`;
      throw error;
    }).finally(() => {
      running = null;
      if (pending) {
        pending = false;
        scheduleFill();
      }
    });
    return running;
  }

  function selectDigit(index) {
    state.digit = index;
    state.label = digits.labels[index];
    digits.pixels[index].forEach((value, pixel) => { state.pixels[pixel] = value / 127.5 - 1; });
    state.mask.fill(0);
    strip.querySelectorAll("canvas").forEach((node, i) => node.classList.toggle("active", i === index));
    showDamaged();
    return scheduleFill();
  }

  async function start() {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = `${root}ort/`;
    [record, digits] = await Promise.all(["models.json", "digits.json"].map(
      (file) => fetch(`${root}models/${file}`).then((response) => response.json())));
    const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    const names = Object.keys(record.inpainters);
    for (const name of names) {
      sessions[name] = await ort.InferenceSession.create(`${root}models/${record.inpainters[name].file}`, options);
      const entry = record.inpainters[name];
      element("option", { value: name, text: `${name} (${entry.variant}, ${entry.epochs} epochs)` }, modelSelect);
    }
    sessions.classifier = await ort.InferenceSession.create(`${root}models/${record.classifier.file}`, options);
    state.model = names.includes("recommended") ? "recommended" : names[0];
    modelSelect.value = state.model;
    digits.pixels.forEach((values, index) => {
      const thumbnail = element("canvas", { width: SIZE, height: SIZE, title: `test digit ${index}`,
                                            "data-index": index }, strip);
      paint(thumbnail, values.map((value) => value / 127.5 - 1), null);
      thumbnail.addEventListener("click", () => selectDigit(index));
    });
    loaded = true;
    await selectDigit(0);
    return true;
  }

  window.inpaintDemo = {
    state,
    selectDigit,
    setModel: (name) => { state.model = name; modelSelect.value = name; return window.inpaintDemo.fill(); },
    // A fresh fill of the current state, once any fill in flight has finished.
    fill: async () => {
      while (running) await running;
      return scheduleFill();
    },
    get lastResult() { return lastResult; },
    ready: null,
    error: null,
  };
  window.inpaintDemo.ready = start().catch((error) => {
    window.inpaintDemo.error = String(error);
    status.textContent = `The demo could not start: ${error}`;
    throw error;
  });
})();
