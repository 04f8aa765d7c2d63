// Measurements and key images, kept on the server: each reviewer's own measurements can be
// moved and removed, the other panel members' are shown locked in another colour. Points
// travel in image coordinates (pixels of the stored image), so they do not depend on the
// screen, the zoom or the pan; the server works out the value (mm, degrees) from them.
import { eventTarget, utilities as coreUtilities } from "@cornerstonejs/core";
import {
  AngleTool,
  ArrowAnnotateTool,
  CobbAngleTool,
  Enums as ToolEnums,
  LengthTool,
  annotation as annotations,
} from "@cornerstonejs/tools";

const KINDS = { length: LengthTool, angle: AngleTool, cobb: CobbAngleTool, arrow: ArrowAnnotateTool };
const KIND_OF = Object.fromEntries(Object.entries(KINDS).map(([kind, Tool]) => [Tool.toolName, kind]));
const OTHERS = "rgb(255, 196, 0)";
const SAVE_AFTER_MS = 400;

export class Measurements {
  static TOOLS = new Set(Object.keys(KINDS));

  constructor({ config, viewport, element, root, say, current }) {
    Object.assign(this, { config, viewport, element, root, say, current });
    this.readOnly = !config.canEdit;
    this.byId = new Map(); // every measurement of the document, from the server
    this.keys = []; // key images of the document
    this.drawn = new Set(); // ids already on the viewport
    this.timers = new Map();
    this.list = root.querySelector("[data-measurements]");
    this.keyList = root.querySelector("[data-key-images]");
    this.keyButton = root.querySelector("[data-key]");
    this.loaded = false;
  }

  async load() {
    if (this.loaded) {
      return;
    }
    const answer = await fetch(this.config.measurementsUrl, { headers: { Accept: "application/json" } });
    if (answer.ok) {
      const body = await answer.json();
      body.measurements.forEach((m) => this.byId.set(m.id, m));
      this.keys = body.key_images;
      this.loaded = true;
    }
    this.render();
  }

  // The image is on screen: draw the saved measurements made on it.
  imageShown(imageId) {
    const { place, series } = this.current();
    for (const m of this.byId.values()) {
      if (this.drawn.has(m.id) || m.series !== series || m.image !== place.image || m.frame !== place.frame) {
        continue;
      }
      this.draw(m, imageId);
    }
  }

  draw(m, imageId) {
    const Tool = KINDS[m.tool];
    const points = m.points.map((point) => coreUtilities.imageToWorldCoords(imageId, point));
    const annotation = Tool.createAnnotationForViewport(this.viewport, {
      annotationUID: m.id,
      highlighted: false,
      isLocked: !m.mine,
      data: { handles: { points }, ...(m.tool === "arrow" ? { text: m.label } : {}) },
    });
    annotations.state.addAnnotation(annotation, this.element);
    if (!m.mine) {
      annotations.locking.setAnnotationLocked(m.id, true);
      annotations.config.style.setAnnotationStyles(m.id, { color: OTHERS, colorLocked: OTHERS });
    }
    this.drawn.add(m.id);
    this.viewport.render();
  }

  listen({ go }) {
    this.go = go;
    const { Events, ChangeTypes } = ToolEnums;
    eventTarget.addEventListener(Events.ANNOTATION_COMPLETED, (event) => this.changed(event.detail.annotation, 0));
    eventTarget.addEventListener(Events.ANNOTATION_MODIFIED, (event) => {
      const { annotation, changeType } = event.detail;
      if (this.byId.has(annotation.annotationUID) && changeType !== ChangeTypes.StatsUpdated) {
        this.changed(annotation, SAVE_AFTER_MS);
      }
    });
    this.keyButton.addEventListener("click", () => this.toggleKey());
    this.list.addEventListener("click", (event) => this.onListClick(event));
    this.keyList.addEventListener("click", (event) => this.onListClick(event));
  }

  // Drawn or moved by this reviewer: saved (once the handles rest).
  changed(annotation, delay) {
    const kind = KIND_OF[annotation.metadata.toolName];
    const saved = this.byId.get(annotation.annotationUID);
    if (!kind || (saved && !saved.mine)) {
      return;
    }
    if (this.readOnly) {
      this.say("Measurements can no longer be changed on this case.");
      return;
    }
    clearTimeout(this.timers.get(annotation.annotationUID));
    this.timers.set(annotation.annotationUID, setTimeout(() => this.save(annotation, kind), delay));
  }

  async save(annotation, kind) {
    const imageId = annotation.metadata.referencedImageId;
    const { place, series } = this.current();
    if (!place || imageId !== this.current().imageId) {
      return;
    }
    const body = {
      id: annotation.annotationUID,
      series,
      image: place.image,
      frame: place.frame,
      tool: kind,
      points: annotation.data.handles.points.map((point) => coreUtilities.worldToImageCoords(imageId, point)),
      label: kind === "arrow" ? annotation.data.text || "" : "",
    };
    const answer = await this.post(this.config.measurementsUrl, body);
    if (answer) {
      this.byId.set(answer.id, answer);
      this.drawn.add(answer.id);
      this.render();
      this.say(`Saved: ${answer.text}.`);
    }
  }

  async post(url, body) {
    const answer = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": this.config.csrf },
      body: JSON.stringify(body),
    });
    const reply = await answer.json().catch(() => ({}));
    if (!answer.ok) {
      this.say(reply.error || "Not saved: try again.");
      return null;
    }
    return reply;
  }

  removeSelected() {
    for (const id of annotations.selection.getAnnotationsSelected()) {
      this.remove(id);
    }
  }

  async remove(id) {
    const m = this.byId.get(id);
    if (!m || !m.mine || this.readOnly) {
      return;
    }
    const answer = await this.post(m.delete_url, {});
    if (answer) {
      annotations.state.removeAnnotation(id);
      this.byId.delete(id);
      this.drawn.delete(id);
      this.viewport.render();
      this.render();
      this.say("Measurement removed.");
    }
  }

  isKey() {
    const { place, series } = this.current();
    return Boolean(place) && this.keys.some((k) => k.mine && k.series === series && k.image === place.image && k.frame === place.frame);
  }

  showKeyState() {
    const key = this.isKey();
    this.keyButton.setAttribute("aria-pressed", String(key));
    this.keyButton.textContent = key ? "Key image ✓" : "Mark as key image";
    this.keyButton.disabled = this.readOnly;
  }

  async toggleKey() {
    const { place, series } = this.current();
    if (!place || this.readOnly) {
      return;
    }
    const { voiRange } = this.viewport.getProperties();
    const window = voiRange ? coreUtilities.windowLevel.toWindowLevel(voiRange.lower, voiRange.upper) : null;
    const answer = await this.post(this.config.keyImagesUrl, {
      series,
      image: place.image,
      frame: place.frame,
      key: !this.isKey(),
      window_width: window ? window.windowWidth : null,
      window_center: window ? window.windowCenter : null,
    });
    if (answer) {
      this.keys = answer.key_images;
      this.render();
      this.showKeyState();
      this.say(this.isKey() ? "Marked as a key image." : "No longer a key image.");
    }
  }

  onListClick(event) {
    const button = event.target.closest("button");
    if (!button) {
      return;
    }
    const item = this.byId.get(button.dataset.id) || this.keys.find((k) => k.id === button.dataset.id);
    if (button.dataset.action === "remove") {
      this.remove(button.dataset.id);
    } else if (item) {
      this.go(item.series, { image: item.image, frame: item.frame });
    }
  }

  render() {
    this.list.replaceChildren(...[...this.byId.values()].map((m) => this.row(m, `${m.text}`, m.author)));
    this.root.querySelector("[data-measurements-empty]").hidden = this.byId.size > 0;
    this.keyList.replaceChildren(...this.keys.map((k) => this.row(k, "Key image", k.author)));
    this.root.querySelector("[data-key-images-empty]").hidden = this.keys.length > 0;
  }

  row(item, text, author) {
    const li = document.createElement("li");
    li.className = "list-group-item d-flex flex-wrap align-items-center gap-2";
    li.dataset.measurement = item.id;
    const label = document.createElement("span");
    label.className = "me-auto";
    label.textContent = `${text} · ${item.where} · ${author}`;
    const show = document.createElement("button");
    show.type = "button";
    show.className = "btn btn-sm btn-outline-secondary";
    show.dataset.id = item.id;
    show.textContent = "Show";
    li.append(label, show);
    if (item.mine && item.delete_url && !this.readOnly) {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-sm btn-outline-danger";
      remove.dataset.id = item.id;
      remove.dataset.action = "remove";
      remove.textContent = "Remove";
      li.append(remove);
    }
    return li;
  }
}
