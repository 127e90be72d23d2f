import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ChatApp } from "./chat-app.js";
import { Chat } from "./minimal-chat.js";

// `?minimal` shows the README's ten-line component instead of the full example.
const App = new URLSearchParams(location.search).has("minimal") ? Chat : ChatApp;
const root = document.getElementById("root");
if (root === null) throw new Error("#root is missing");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
