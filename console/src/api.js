// The console's calls to /console/api/: JSON in, JSON out; a refusal is thrown as an Error
// carrying the API's code and sentence.

export const project = document.body.dataset.project;

export class Refused extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export async function call(path, body) {
  const init = body === undefined
    ? { credentials: "same-origin" }
    : {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      };
  const response = await fetch(`/console/api/${path}`, init);
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) {
    window.location.assign("/console");
  }
  if (!response.ok) {
    throw new Refused(answer.error || "service/unavailable", answer.message || response.statusText);
  }
  return answer;
}

export const inProject = (name, body) => call(`${encodeURIComponent(project)}/${name}`, body);

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}
