// Boot: the server's facts in the header, then the router draws the page the URL names.
import { uiConfig } from "./api.js";
import { start } from "./router.js";

const root = document.getElementById("app");
uiConfig()
  .then((config) => {
    document.getElementById("version").textContent = `v${config.version}`;
  })
  .catch(() => {});
start(root);
