// The mouse and touch tools and the measurements: a chunk of its own, fetched by viewer.js
// once the first image is on screen.
import {
  AngleTool,
  ArrowAnnotateTool,
  CobbAngleTool,
  Enums as ToolEnums,
  LengthTool,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
  addTool,
  cursors,
  init as toolsInit,
  store,
} from "@cornerstonejs/tools";
import { Measurements } from "./measurements.js";

const MOUSE = ToolEnums.MouseBindings;
const PRIMARY = [{ mouseButton: MOUSE.Primary }, { numTouchPoints: 1 }];
const TOOLS = {
  window: WindowLevelTool,
  pan: PanTool,
  zoom: ZoomTool,
  length: LengthTool,
  angle: AngleTool,
  cobb: CobbAngleTool,
  arrow: ArrowAnnotateTool,
};
// The tools draw their cursors as blob: images, which the portal's CSP refuses (img-src
// 'self'): standard cursors instead.
const CURSORS = { WindowLevel: "ns-resize", Pan: "grab", Zoom: "zoom-in" };

export async function setUp({ config, viewport, element, root, say, current, go, engineId, viewportId, askText, changeText }) {
  cursors.SVGMouseCursor.getDefinedCursor = (name) => cursors.MouseCursor.getDefinedCursor(CURSORS[name] || "crosshair");
  toolsInit();
  // The viewport was enabled before the tools were loaded: they take it up as they would
  // have when it was enabled (their layer for drawings, their mouse, touch and key listeners).
  store.addEnabledElement({ detail: { element, viewportId, renderingEngineId: engineId } });
  const group = ToolGroupManager.createToolGroup("portal");
  for (const Tool of [StackScrollTool, ...Object.values(TOOLS)]) {
    addTool(Tool);
    group.addTool(Tool.toolName);
  }
  group.addTool(ArrowAnnotateTool.toolName, { getTextCallback: askText, changeTextCallback: changeText });
  group.addViewport(viewportId, engineId);
  group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MOUSE.Wheel }] });
  group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MOUSE.Secondary }, { numTouchPoints: 2 }] });
  group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MOUSE.Auxiliary }] });
  for (const name of ["length", "angle", "cobb", "arrow"]) {
    group.setToolPassive(TOOLS[name].toolName);
  }
  group.setToolActive(WindowLevelTool.toolName, { bindings: PRIMARY });

  const measurements = new Measurements({ config, viewport, element, root, say, current });
  measurements.listen({ go });
  await measurements.load();
  let chosen = "window";

  // Choose what a left-button drag (or one finger) does.
  function chooseTool(name) {
    if (!TOOLS[name] || (measurements.readOnly && Measurements.TOOLS.has(name))) {
      return;
    }
    group.setToolPassive(TOOLS[chosen].toolName);
    group.setToolActive(TOOLS[name].toolName, { bindings: PRIMARY });
    chosen = name;
    root.querySelectorAll("[data-tool]").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.tool === name));
    });
    say(`${root.querySelector(`[data-tool="${name}"]`).textContent.trim()} selected.`);
  }
  return { measurements, chooseTool };
}
