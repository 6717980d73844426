// A template field's editor: CodeMirror 6, HTML where the field is HTML, with the Jinja
// tags marked in any field, and one line that can be marked as the error's.

import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { html } from "@codemirror/lang-html";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration, EditorView, MatchDecorator, ViewPlugin, drawSelection, highlightActiveLineGutter,
  highlightSpecialChars, keymap, lineNumbers,
} from "@codemirror/view";

// No bracket or tag closing: a template is half Jinja, half markup, and a `{{` closed for the
// author is more often in the way than not. Tab leaves the editor (no indentWithTab).
const common = [
  highlightSpecialChars(), history(), drawSelection(), syntaxHighlighting(defaultHighlightStyle),
  bracketMatching(), keymap.of([...defaultKeymap, ...historyKeymap]),
];
const multiLine = [lineNumbers(), highlightActiveLineGutter(), indentOnInput()];

const jinjaTags = new MatchDecorator({
  regexp: /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g,
  decoration: (match) => Decoration.mark({
    class: match[0].startsWith("{#") ? "cm-jinja cm-jinja-comment" : "cm-jinja",
  }),
});

const jinja = ViewPlugin.fromClass(
  class {
    constructor(view) { this.decorations = jinjaTags.createDeco(view); }
    update(update) { this.decorations = jinjaTags.updateDeco(update, this.decorations); }
  },
  { decorations: (plugin) => plugin.decorations },
);

const markLine = StateEffect.define();
const errorLine = StateField.define({
  create: () => Decoration.none,
  update(lines, transaction) {
    for (const effect of transaction.effects) {
      if (effect.is(markLine)) {
        const { doc } = transaction.state;
        if (effect.value === null || effect.value > doc.lines) return Decoration.none;
        const line = doc.line(effect.value);
        return Decoration.set([Decoration.line({ class: "cm-error-line" }).range(line.from)]);
      }
    }
    return transaction.docChanged ? lines.map(transaction.changes) : lines;
  },
  provide: (field) => EditorView.decorations.from(field),
});

// One-line fields: Enter does nothing (a subject has no second line).
const oneLine = [
  EditorState.transactionFilter.of((tr) => (tr.newDoc.lines > 1 ? [] : tr)),
  keymap.of([{ key: "Enter", run: () => true }]),
];

export function codeField({ parent, value, label, id, isHtml, lines, onChange }) {
  const extensions = [
    common,
    lines === 1 ? oneLine : multiLine,
    isHtml ? html({ autoCloseTags: false }) : [],
    jinja,
    errorLine,
    EditorView.lineWrapping,
    EditorView.contentAttributes.of({ "aria-label": label, id }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange(update.state.doc.toString());
    }),
  ];
  const view = new EditorView({ doc: value || "", extensions, parent });
  return {
    view,
    mark(line) { view.dispatch({ effects: markLine.of(line) }); },
    focus() { view.focus(); },
  };
}
