import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ChatApp } from "./chat-app.js";

const root = document.getElementById("root");
if (root === null) throw new Error("#root is missing");
createRoot(root).render(
  <StrictMode>
    <ChatApp />
  </StrictMode>,
);
