// The book's in-browser demo: erase part of a digit, and the shipped model fills it.
//
// Everything runs on the page with ONNX Runtime Web's wasm backend, one thread (static hosting
// needs no cross-origin isolation then). The models are the book's own, exported from the
// committed weights by `python -m lib.publish.export` when the book is built; each inpainter takes the
// corrupted digit and its mask and returns the completed digit, so this file only draws,
// collects the strokes and shows the answers. `window.inpaintDemo` exposes the state for the
// book's browser test (tests/test_browser.py).
//
// "Find the damage" is blind correction (lib.correction): the reader scribbles over a digit without
// marking anything, the exported mask head finds the pixels it judges damaged, and the inpainter
// fills exactly those, every other pixel kept as drawn.
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
    blind: false, // find the damage with the mask head instead of being told where it is
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
  const blindButton = element("button", { id: "demo-blind", type: "button", text: "Find the damage",
                                          title: "Scribble or rub out without marking anything: the page finds what you did" }, toolbar);

  const strip = element("div", { class: "demo-strip", id: "demo-strip" }, container);
  const panels = element("div", { class: "demo-panels" }, container);
  const left = element("figure", { class: "demo-panel" }, panels);
  const damaged = element("canvas", { id: "demo-damaged", width: SIZE * SCALE, height: SIZE * SCALE }, left);
  const leftCaption = element("figcaption", { text: "" }, left);
  const foundPanel = element("figure", { class: "demo-panel", hidden: "" }, panels);
  const foundCanvas = element("canvas", { id: "demo-found", width: SIZE * SCALE, height: SIZE * SCALE }, foundPanel);
  element("figcaption", { text: "The damage the mask head found (red)" }, foundPanel);
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

  function showDamaged() {
    paint(damaged, state.pixels, state.mask);
    leftCaption.textContent = state.blind ? "Your digit: scribble (Draw) or rub out (Erase) anywhere; nothing is marked"
      : "Your digit: erase (red) or draw with the mouse";
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
        if (state.blind) {
          // Blind correction: the strokes change the digit itself and mark nothing.
          const value = state.brush === "erase" ? HOLE_VALUE : 1;
          if (state.pixels[index] !== value) {
            state.pixels[index] = value;
            changed = true;
          }
        } else if (state.brush === "erase" && !state.mask[index]) {
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
  function setBlind(on) {
    state.blind = Boolean(on);
    blindButton.classList.toggle("active", state.blind);
    foundPanel.hidden = !state.blind;
    state.mask.fill(0); // blind: nothing is marked; a hole marked before is no longer the question
    showDamaged();
  }
  blindButton.addEventListener("click", () => {
    setBlind(!state.blind);
    if (loaded) scheduleFill();
  });
  modelSelect.addEventListener("change", () => {
    state.model = modelSelect.value;
    if (loaded) scheduleFill();
  });

  // ---------------------------------------------------------------- inference
  function tensor(values) {
    return new ort.Tensor("float32", values, [1, SIZE, SIZE, 1]);
  }

  // As lib.correction: a blank canvas (no pixel above half a grey level) has nothing to correct.
  const BLANK = -1 + 0.5 / 127.5;

  async function findDamage(pixels) {
    const head = record.mask_head;
    if (!pixels.some((value) => value > BLANK)) return new Uint8Array(pixels.length);
    const probabilities = (await sessions.maskHead.run({ [head.input_names[0]]: tensor(pixels) }))[head.output_name].data;
    return Uint8Array.from(probabilities, (probability) => (probability > head.threshold ? 1 : 0));
  }

  async function fill() {
    // What this fill answers, taken before the awaits: strokes made meanwhile go to the next fill.
    const input = { model: state.model, digit: state.digit, mask: Array.from(state.mask), pixels: Array.from(state.pixels),
                    blind: state.blind };
    const entry = record.inpainters[input.model];
    const [corruptedName, maskName] = entry.input_names;
    const started = performance.now();
    const pixels = Float32Array.from(input.pixels);
    const mask = input.blind ? await findDamage(pixels) : Uint8Array.from(input.mask);
    const holes = Float32Array.from(pixels, (value, index) => (mask[index] ? HOLE_VALUE : value));
    const feeds = { [corruptedName]: tensor(holes), [maskName]: tensor(Float32Array.from(mask)) };
    let output = (await sessions[input.model].run(feeds))[entry.output_name].data;
    if (input.blind) output = Float32Array.from(output, (value, index) => (mask[index] ? value : pixels[index]));
    const filledAt = performance.now();
    const classifier = record.classifier;
    const probabilities = (await sessions.classifier.run({ [classifier.input_names[0]]: tensor(Float32Array.from(output)) }))[
      classifier.output_name].data;
    const finished = performance.now();
    const label = probabilities.indexOf(Math.max(...probabilities));
    state.fills += 1;
    lastResult = {
      ...input, found: input.blind ? Array.from(mask) : null, filled: Array.from(output),
      probabilities: Array.from(probabilities), label,
      fillMs: filledAt - started, classifyMs: finished - filledAt, totalMs: finished - started, fills: state.fills,
    };
    paint(filled, output, null);
    if (input.blind) paint(foundCanvas, pixels, mask);
    barNodes.forEach((node, digit) => {
      node.bar.style.width = `${(100 * probabilities[digit]).toFixed(1)}%`;
      node.value.textContent = `${(100 * probabilities[digit]).toFixed(1)} %`;
      node.row.classList.toggle("top", digit === label);
    });
    status.textContent = (input.blind ? `found ${mask.reduce((sum, value) => sum + value, 0)} damaged pixels; ` : "") +
      `${input.model} model: filled in ${lastResult.fillMs.toFixed(1)} ms, read in ` +
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

  // Each ONNX file is checked against the sha256 that models.json records for it before it runs:
  // a damaged, truncated or swapped file stops the demo with its name, instead of answering wrongly.
  async function verifiedModel(entry, options) {
    const response = await fetch(`${root}models/${entry.file}`);
    if (!response.ok) throw new Error(`${entry.file}: ${response.status} ${response.statusText}`);
    const bytes = await response.arrayBuffer();
    if (!(window.crypto && crypto.subtle)) throw new Error(`cannot check ${entry.file}: this page needs https or 127.0.0.1`);
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
                              (byte) => byte.toString(16).padStart(2, "0")).join("");
    if (digest !== entry.onnx_sha256) {
      throw new Error(`${entry.file} does not match its checksum in models.json (damaged, truncated or replaced)`);
    }
    return ort.InferenceSession.create(new Uint8Array(bytes), options);
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
      sessions[name] = await verifiedModel(record.inpainters[name], options);
      const entry = record.inpainters[name];
      element("option", { value: name, text: `${name} (${entry.variant}, ${entry.epochs} epochs)` }, modelSelect);
    }
    sessions.classifier = await verifiedModel(record.classifier, options);
    sessions.maskHead = await verifiedModel(record.mask_head, options);
    state.model = names.includes("book") ? "book" : names[0]; // the book's model is the default, as in lib
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
    setBlind: (on) => { setBlind(on); return window.inpaintDemo.fill(); },
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
