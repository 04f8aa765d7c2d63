// The reviewer's imaging viewer: one series at a time in a Cornerstone3D stack viewport.
// Scroll (wheel, keys, slider), window/level (drag, presets), zoom and pan, and the
// measuring tools; measurements and key images are kept on the server (measurements.js).
//
// This module holds what the first image needs (Cornerstone's core and the DICOM loader);
// viewer.js loads it, and the mouse and touch tools and the measurements (tools.js, a
// chunk of their own) are fetched once the first image is on screen. Keys, the slider and
// the presets work before that, and a tool chosen meanwhile is taken up when they arrive.
import {
  Enums as CoreEnums,
  RenderingEngine,
  eventTarget,
  init as coreInit,
  utilities as coreUtilities,
} from "@cornerstonejs/core";
// The loader's init alone (build.mjs): its package index would bring its decoders, which
// run in its worker, onto the page too.
import loaderInit from "dicom-image-loader-init";

const ENGINE = "portal-viewer";
const VIEWPORT = "stack";
// Window presets in Hounsfield units (width, centre); "file" is the file's own window.
const PRESETS = {
  bone: [2000, 500],
  soft: [400, 40],
  lung: [1500, -600],
};
const KEYS = { w: "window", p: "pan", z: "zoom", l: "length", a: "angle", c: "cobb", t: "arrow" };
const SPACING = {
  pixel: (s) => `Pixel spacing ${s[0].toFixed(2)} × ${s[1].toFixed(2)} mm`,
  imager: (s) => `Imager pixel spacing ${s[0].toFixed(2)} mm (at the detector, not corrected for magnification)`,
  magnification: (s) => `Pixel spacing ${s[0].toFixed(2)} mm (corrected for magnification)`,
};

const root = document.querySelector("[data-viewer]");
const config = JSON.parse(root.dataset.config);
const element = root.querySelector("[data-viewport]");
const ui = {
  slider: root.querySelector("[data-slider]"),
  counter: root.querySelector("[data-counter]"),
  overlay: root.querySelector("[data-overlay]"),
  spacing: root.querySelector("[data-spacing]"),
  failure: root.querySelector("[data-failure]"),
  placeholder: root.querySelector("[data-placeholder]"),
  status: root.querySelector("[data-status]"),
  preset: root.querySelector("[data-preset]"),
};
const state = { series: null, images: [], imageIds: [], places: [], failed: new Set() };
let viewport;
// The first image on screen, or the viewer saying it cannot be: the tools may load then.
let firstSettled;
const firstDrawn = new Promise((resolve) => {
  firstSettled = resolve;
});
let extras = null; // the tools and the measurements, once loaded (tools.js)
let extrasLoaded;
const extrasReady = new Promise((resolve) => {
  extrasLoaded = resolve;
});

function say(text) {
  ui.status.textContent = text;
}

// Start the viewer; `first` is the answer to the first series' address, asked for by
// viewer.js while this module was loading.
export async function start(first) {
  coreInit();
  loaderInit({ maxWebWorkers: Math.min(2, navigator.hardwareConcurrency || 1), wasmBasePath: config.assets });
  const engine = new RenderingEngine(ENGINE);
  engine.enableElement({
    viewportId: VIEWPORT,
    type: CoreEnums.ViewportType.STACK,
    element,
    defaultOptions: { background: [0, 0, 0] },
  });
  viewport = engine.getViewport(VIEWPORT);
  listen();
  new ResizeObserver(() => engine.resize(true, true)).observe(element);
  await openSeries(config.series[0].number, first);
  await Promise.race([firstDrawn, new Promise((resolve) => setTimeout(resolve, 5000))]);
  loadExtras().catch(() => say("The measuring tools could not be loaded: reload the page."));
}

// The tools and the measurements, fetched after the first image is drawn.
async function loadExtras() {
  const { setUp } = await import("./tools.js");
  extras = await setUp({
    config,
    viewport,
    element,
    root,
    say,
    current,
    go: goTo,
    engineId: ENGINE,
    viewportId: VIEWPORT,
    askText,
    changeText,
  });
  const { imageId } = current();
  if (imageId && !state.failed.has(imageId)) {
    extras.measurements.imageShown(imageId);
  }
  update();
  root.dataset.ready = ""; // the tools are listening
  extrasLoaded(extras);
}

// Choose what a left-button drag (or one finger) does: taken up once the tools are loaded.
function chooseTool(name) {
  extrasReady.then((loaded) => loaded.chooseTool(name));
}

// The arrow's text, asked in the page (never window.prompt).
function askText(done) {
  const form = root.querySelector("[data-arrow-text]");
  const input = form.querySelector("input");
  input.value = "";
  form.hidden = false;
  input.focus();
  const finish = (text) => {
    form.hidden = true;
    form.onsubmit = null;
    form.querySelector("[data-cancel]").onclick = null;
    element.focus();
    done(text);
  };
  form.onsubmit = (event) => {
    event.preventDefault();
    finish(input.value.trim() || null);
  };
  form.querySelector("[data-cancel]").onclick = () => finish(null);
}

function changeText(annotation, eventData, done) {
  askText((text) => done(text || annotation.data.text));
}

function imageIdsOf(images) {
  const ids = [];
  const places = [];
  images.forEach((image, index) => {
    const url = new URL(image.url, window.location.href).href;
    for (let frame = 1; frame <= image.frames; frame += 1) {
      ids.push(image.frames > 1 ? `wadouri:${url}?frame=${frame}` : `wadouri:${url}`);
      places.push({ image: index + 1, frame, spacing: image.spacing, source: image.spacing_source });
    }
  });
  return { ids, places };
}

async function openSeries(number, asked = null) {
  const answer = await (asked || fetch(config.seriesUrls[number], { headers: { Accept: "application/json" } }));
  if (!answer.ok) {
    showFailure(true);
    say("This series cannot be opened.");
    return;
  }
  const series = await answer.json();
  const { ids, places } = imageIdsOf(series.images);
  Object.assign(state, { series: number, images: series.images, imageIds: ids, places, failed: new Set() });
  root.querySelectorAll("[data-series]").forEach((button) => {
    button.setAttribute("aria-pressed", String(Number(button.dataset.series) === number));
  });
  ui.slider.max = String(ids.length);
  ui.slider.value = "1";
  showPlaceholder(series.images[0]?.placeholder);
  try {
    await viewport.setStack(ids, 0);
    viewport.render();
  } catch (error) {
    failed(ids[0]);
  }
  update();
  say(`${series.label}: ${ids.length} image${ids.length === 1 ? "" : "s"}.`);
}

function showPlaceholder(url) {
  ui.placeholder.hidden = !url;
  if (url) {
    ui.placeholder.src = url;
  }
}

function current() {
  const index = viewport.getTargetImageIdIndex();
  return { index, imageId: state.imageIds[index], place: state.places[index], series: state.series };
}

function go(index) {
  const target = Math.max(0, Math.min(state.imageIds.length - 1, index));
  if (target === viewport.getTargetImageIdIndex() && !state.failed.has(state.imageIds[target])) {
    return;
  }
  viewport.setImageIdIndex(target).catch(() => failed(state.imageIds[target]));
  update(target);
}

function failed(imageId) {
  state.failed.add(imageId);
  if (imageId === state.imageIds[viewport.getTargetImageIdIndex()]) {
    showFailure(true);
  }
}

function showFailure(shown) {
  ui.failure.hidden = !shown;
  if (shown) {
    ui.placeholder.hidden = true;
    firstSettled();
  }
}

// The counter, slider and overlay for the image on screen (or being loaded).
function update(index = viewport.getTargetImageIdIndex()) {
  const place = state.places[index];
  if (!place) {
    return;
  }
  ui.slider.value = String(index + 1);
  ui.counter.textContent = `${index + 1} / ${state.imageIds.length}`;
  showFailure(state.failed.has(state.imageIds[index]));
  const spacing = place.spacing ? SPACING[place.source](place.spacing) : "Not calibrated: lengths are in pixels";
  ui.spacing.textContent = spacing;
  ui.spacing.classList.toggle("text-warning", !place.spacing);
  const frame = state.images[place.image - 1].frames > 1 ? ` · frame ${place.frame}` : "";
  const { voiRange } = viewport.getProperties ? viewport.getProperties() : {};
  let windowText = "";
  if (voiRange) {
    const { windowWidth, windowCenter } = coreUtilities.windowLevel.toWindowLevel(voiRange.lower, voiRange.upper);
    windowText = ` · W ${Math.round(windowWidth)} L ${Math.round(windowCenter)}`;
  }
  const zoom = viewport.getZoom ? ` · zoom ${viewport.getZoom().toFixed(1)}×` : "";
  ui.overlay.textContent = `Image ${place.image}${frame}${windowText}${zoom}`;
  extras?.measurements.showKeyState();
}

function applyPreset(name) {
  if (name === "file") {
    viewport.resetProperties();
  } else {
    const [width, center] = PRESETS[name];
    viewport.setProperties({ voiRange: coreUtilities.windowLevel.toLowHighRange(width, center) });
  }
  viewport.render();
  ui.preset.value = name;
  update();
}

function reset() {
  viewport.resetCamera();
  viewport.resetProperties();
  viewport.render();
  ui.preset.value = "file";
  update();
  say("View reset.");
}

function nudgeWindow(dWidth, dCenter) {
  const { voiRange } = viewport.getProperties();
  if (!voiRange) {
    return;
  }
  const { windowWidth, windowCenter } = coreUtilities.windowLevel.toWindowLevel(voiRange.lower, voiRange.upper);
  const width = Math.max(1, windowWidth * (1 + dWidth));
  const center = windowCenter + dCenter * windowWidth;
  viewport.setProperties({ voiRange: coreUtilities.windowLevel.toLowHighRange(width, center) });
  viewport.render();
}

function zoomBy(factor) {
  viewport.setZoom(viewport.getZoom() * factor);
  viewport.render();
}

function panBy(dx, dy) {
  const [x, y] = viewport.getPan();
  viewport.setPan([x + dx, y + dy]);
  viewport.render();
}

const STEPS = { ArrowUp: -1, ArrowLeft: -1, PageUp: -10, ArrowDown: 1, ArrowRight: 1, PageDown: 10 };
const PANS = { ArrowUp: [0, 20], ArrowDown: [0, -20], ArrowLeft: [20, 0], ArrowRight: [-20, 0] };
const WINDOWS = { ArrowUp: [0, 0.05], ArrowDown: [0, -0.05], ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0] };

// Keys on the focused image: arrows and Page Up/Down scroll, Home/End go to the ends,
// Shift+arrows pan, Alt+arrows change the window, + and - zoom, R resets, K marks the
// key image, 1-4 choose a window preset, letters choose a tool, Delete removes your
// selected measurement.
function onKey(event) {
  if (event.ctrlKey || event.metaKey) {
    return;
  }
  const key = event.key;
  const index = viewport.getTargetImageIdIndex();
  if (event.shiftKey && PANS[key]) {
    panBy(...PANS[key]);
  } else if (event.altKey && WINDOWS[key]) {
    nudgeWindow(...WINDOWS[key]);
  } else if (STEPS[key] !== undefined) {
    go(index + STEPS[key]);
  } else if (key === "Home" || key === "End") {
    go(key === "Home" ? 0 : state.imageIds.length - 1);
  } else if (key === "+" || key === "=") {
    zoomBy(1.25);
  } else if (key === "-") {
    zoomBy(0.8);
  } else if (key === "r" || key === "R") {
    reset();
  } else if (key === "k" || key === "K") {
    extras?.measurements.toggleKey();
  } else if (["1", "2", "3", "4"].includes(key)) {
    applyPreset(["file", "bone", "soft", "lung"][Number(key) - 1]);
  } else if (KEYS[key.toLowerCase()]) {
    chooseTool(KEYS[key.toLowerCase()]);
  } else if (key === "Delete" || key === "Backspace") {
    extras?.measurements.removeSelected();
  } else {
    return;
  }
  event.preventDefault();
}

function listen() {
  element.addEventListener(CoreEnums.Events.STACK_NEW_IMAGE, (event) => {
    element.dataset.shown = String(event.detail.imageIdIndex + 1); // the image drawn last
    ui.placeholder.hidden = true;
    state.failed.delete(event.detail.imageId);
    extras?.measurements.imageShown(event.detail.imageId);
    update();
  });
  element.addEventListener(CoreEnums.Events.IMAGE_RENDERED, () => firstSettled(), { once: true });
  element.addEventListener(CoreEnums.Events.VOI_MODIFIED, () => update());
  element.addEventListener(CoreEnums.Events.CAMERA_MODIFIED, () => update());
  element.addEventListener("keydown", onKey);
  for (const name of [CoreEnums.Events.IMAGE_LOAD_ERROR, CoreEnums.Events.IMAGE_LOAD_FAILED]) {
    eventTarget.addEventListener(name, (event) => failed(event.detail.imageId));
  }
  ui.slider.addEventListener("input", () => go(Number(ui.slider.value) - 1));
  root.querySelector("[data-previous]").addEventListener("click", () => go(viewport.getTargetImageIdIndex() - 1));
  root.querySelector("[data-next]").addEventListener("click", () => go(viewport.getTargetImageIdIndex() + 1));
  root.querySelector("[data-reset]").addEventListener("click", reset);
  ui.preset.addEventListener("change", () => applyPreset(ui.preset.value));
  root.querySelectorAll("[data-tool]").forEach((button) => {
    button.addEventListener("click", () => chooseTool(button.dataset.tool));
  });
  root.querySelectorAll("[data-series]").forEach((button) => {
    button.addEventListener("click", () => openSeries(Number(button.dataset.series)));
  });
  element.addEventListener("contextmenu", (event) => event.preventDefault());
}

// Show a given image of a given series (from the lists of measurements and key images).
async function goTo(series, place) {
  if (series !== state.series) {
    await openSeries(series);
  }
  const index = state.places.findIndex((p) => p.image === place.image && p.frame === place.frame);
  if (index >= 0) {
    go(index);
  }
  element.focus();
}
