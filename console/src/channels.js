// Each channel's template fields as the API declares them (shared/channels.py), in API order.

export const CHANNELS = [
  {
    key: "email", title: "E-mail", flag: "withEmail", mute: "allowMuteEmail",
    fields: [
      { name: "subject", label: "Subject", lines: 1 },
      { name: "html", label: "HTML", html: true },
      { name: "text", label: "Text", hint: "made from the HTML when empty" },
      { name: "from", label: "From", plain: true },
      { name: "fromName", label: "From name", plain: true },
      { name: "replyTo", label: "Reply-To", plain: true },
    ],
  },
  {
    key: "sms", title: "SMS", flag: "withSMS", mute: "allowMuteSMS",
    fields: [{ name: "text", label: "Text" }],
  },
  {
    key: "widget", title: "Widget", flag: "withWidget", mute: "allowMuteWidget",
    fields: [
      { name: "content", label: "Content", html: true },
      { name: "icon", label: "Icon URL", lines: 1 },
      { name: "link", label: "Link", lines: 1 },
    ],
  },
  {
    key: "push", title: "Push", flag: "withPush", mute: "allowMutePush",
    fields: [
      { name: "title", label: "Title", lines: 1 },
      { name: "body", label: "Body" },
      { name: "icon", label: "Icon URL", lines: 1 },
      { name: "url", label: "URL", lines: 1 },
      { name: "data", label: "Data (JSON object)", json: true },
    ],
  },
];

// "Template en.email.html, line 3: ..." names where a template failed.
const PLACE = /\b([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\.(email|sms|widget|push)\.([A-Za-z]+), line (\d+)/;

export function placeOf(message) {
  const found = PLACE.exec(message || "");
  if (!found) return null;
  return { language: found[1], channel: found[2], field: found[3], line: Number(found[4]) };
}
