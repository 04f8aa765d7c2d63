// The page's script. It asks for the first series at once, then starts the viewer
// (page.js) as soon as its modules, preloaded by the page, are ready: the server answers
// while the browser compiles them.
const root = document.querySelector("[data-viewer]");
const config = JSON.parse(root.dataset.config);
const number = config.series[0].number;
const first = fetch(config.seriesUrls[number], { headers: { Accept: "application/json" } });
first.catch(() => {}); // a failed request is reported by page.js

import("./page.js")
  .then(({ start }) => start(first))
  .catch(() => {
    root.querySelector("[data-failure]").hidden = false;
    root.querySelector("[data-placeholder]").hidden = true;
    root.querySelector("[data-status]").textContent = "The viewer could not start in this browser.";
  });
