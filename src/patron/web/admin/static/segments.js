// The segment editor: a rule builder and the text editor side by side, kept in step through the
// admin's JSON calls (builder -> text with segments.to_text, text -> builder with segments.parse),
// and a live count of who matches. Without this script the text editor and Save still work.
(function () {
  "use strict";
  var form = document.getElementById("segment-editor");
  if (!form) { return; }
  var vocabulary = JSON.parse(form.getAttribute("data-vocabulary") || "{}");
  var csrf = form.getAttribute("data-csrf") || "";
  var builder = document.getElementById("builder");
  var note = document.getElementById("builder-note");
  var textarea = document.getElementById("segment-definition");
  var textError = document.getElementById("definition-error");
  var countBox = document.getElementById("preview-count");
  var countNote = document.getElementById("preview-note");
  var sampleList = document.getElementById("preview-sample");
  var COMPARISONS = ["=", "!=", ">", ">=", "<", "<="];
  var TRAIT_OPS = COMPARISONS.concat(["contains", "in", "set", "not_set"]);
  var OP_LABELS = { "set": "is set", "not_set": "is not set", "in": "is one of" };
  var KINDS = [["trait", "Trait"], ["event", "Event"], ["identity", "Has identity"],
               ["subscribed", "Subscribed"], ["segment", "In segment"]];
  var VALUE_KINDS = [["text", "text"], ["number", "number"], ["true", "true"], ["false", "false"],
                     ["minus", "now minus"], ["plus", "now plus"], ["now", "now"]];
  var traitTypes = {};
  (vocabulary.traits || []).forEach(function (t) { traitTypes[t.name] = t.type; });
  var uid = 0;

  // --- Small DOM helpers ---------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function select(role, label, options, chosen) {
    var box = el("select", { "data-role": role, "aria-label": label });
    options.forEach(function (option) {
      var pair = Array.isArray(option) ? option : [option, OP_LABELS[option] || option];
      var item = el("option", { value: pair[0], text: pair[1] });
      if (String(pair[0]) === String(chosen)) { item.selected = true; }
      box.appendChild(item);
    });
    return box;
  }

  function input(role, label, value, extra) {
    var box = el("input", Object.assign({ "data-role": role, "aria-label": label, type: "text" }, extra || {}));
    box.value = value === undefined || value === null ? "" : String(value);
    return box;
  }

  function datalist(values) {
    var id = "segment-list-" + (++uid);
    var list = el("datalist", { id: id });
    values.forEach(function (v) { list.appendChild(el("option", { value: v })); });
    return { id: id, node: list };
  }

  function part(row, role) { return row.querySelector(":scope > .row-fields [data-role='" + role + "']"); }

  // --- Values (text, number, true/false, a moment relative to now) ---------------------------

  function valueKindOf(value) {
    if (value === true) { return "true"; }
    if (value === false) { return "false"; }
    if (typeof value === "number") { return "number"; }
    if (value && typeof value === "object" && value.now) {
      if ("minus" in value.now) { return "minus"; }
      if ("plus" in value.now) { return "plus"; }
      return "now";
    }
    return "text";
  }

  function valueEditor(value, label) {
    var kind = valueKindOf(value);
    var relative = value && typeof value === "object" && value.now ? value.now : {};
    var box = el("span", { "class": "value-editor", "data-role": "value" }, [
      select("value-kind", label + ": kind of value", VALUE_KINDS, kind),
      input("value-text", label, kind === "text" || kind === "number" ? value : ""),
      input("value-amount", label + ": how many", relative.minus || relative.plus || "", { type: "number", min: "1", "class": "amount" }),
      select("value-unit", label + ": unit", vocabulary.units || ["days"], relative.unit || "days"),
    ]);
    showValueParts(box);
    return box;
  }

  function showValueParts(box) {
    var kind = box.querySelector("[data-role='value-kind']").value;
    var relative = kind === "minus" || kind === "plus";
    box.querySelector("[data-role='value-text']").hidden = !(kind === "text" || kind === "number");
    box.querySelector("[data-role='value-amount']").hidden = !relative;
    box.querySelector("[data-role='value-unit']").hidden = !relative;
  }

  function readValue(box) {
    var kind = box.querySelector("[data-role='value-kind']").value;
    var text = box.querySelector("[data-role='value-text']").value;
    if (kind === "true") { return true; }
    if (kind === "false") { return false; }
    if (kind === "now") { return { now: {} }; }
    if (kind === "minus" || kind === "plus") {
      var amount = Number(box.querySelector("[data-role='value-amount']").value);
      if (!(amount > 0)) { throw new Incomplete("say how many " + box.querySelector("[data-role='value-unit']").value); }
      var relative = { unit: box.querySelector("[data-role='value-unit']").value };
      relative[kind] = amount;
      return { now: relative };
    }
    if (kind === "number") {
      if (text.trim() === "" || isNaN(Number(text))) { throw new Incomplete("type a number"); }
      return Number(text);
    }
    return text;
  }

  function defaultKindFor(type) {
    if (type === "number") { return "number"; }
    if (type === "boolean") { return "true"; }
    if (type === "datetime" || type === "date") { return "minus"; }
    return "text";
  }

  // "US", "CA", 3 -> ["US", "CA", 3]: quoted items are text, bare numbers numbers, else text.
  function readList(text) {
    var items = text.match(/"(?:[^"\\]|\\.)*"|[^,]+/g) || [];
    var values = items.map(function (raw) { return raw.trim(); }).filter(Boolean).map(function (item) {
      if (item.charAt(0) === "\"") { return JSON.parse(item); }
      if (item === "true" || item === "false") { return item === "true"; }
      if (/^-?\d+(\.\d+)?$/.test(item)) { return Number(item); }
      return item;
    });
    if (!values.length) { throw new Incomplete("list at least one value"); }
    return values;
  }

  function showList(values) {
    return (values || []).map(function (v) { return typeof v === "string" ? JSON.stringify(v) : String(v); }).join(", ");
  }

  function Incomplete(message) { this.message = message; }

  // --- Rows: one condition each ---------------------------------------------------------------

  function conditionRow(node, negated) {
    var kind = "trait";
    ["event", "identity", "subscribed", "segment"].forEach(function (k) { if (node && k in node) { kind = k; } });
    var row = el("div", { "class": "rule-row", "data-kind": kind, role: "group", "aria-label": "Condition" });
    var not = el("input", { type: "checkbox", "data-role": "not", "aria-label": "not (negate this condition)" });
    not.checked = !!negated;
    row.appendChild(el("label", { "class": "not-toggle" }, [not, el("span", { text: "not" })]));
    row.appendChild(select("kind", "Condition type", KINDS, kind));
    row.appendChild(el("span", { "class": "row-fields" }, conditionFields(kind, node || {})));
    row.appendChild(el("button", { type: "button", "class": "plain", "data-action": "remove", "aria-label": "Remove condition", text: "×" }));
    return row;
  }

  function conditionFields(kind, node) {
    if (kind === "event") { return eventFields(node); }
    if (kind === "identity") {
      var kinds = datalist(vocabulary.identities || []);
      return [kinds.node, input("identity", "Identity kind", node.identity || "email", { list: kinds.id })];
    }
    if (kind === "subscribed") {
      var wanted = node.subscribed || { channel: "email", topic: "" };
      var topics = [["", "the whole channel"]].concat((vocabulary.topics || []).map(function (t) { return [t.key, t.name + " (" + t.key + ")"]; }));
      if (wanted.topic && !topics.some(function (t) { return t[0] === wanted.topic; })) { topics.push([wanted.topic, wanted.topic]); }
      return [select("channel", "Channel", vocabulary.channels || ["email"], wanted.channel),
              el("span", { text: "to" }), select("topic", "Topic", topics, wanted.topic || "")];
    }
    if (kind === "segment") {
      var names = (vocabulary.segments || []).slice();
      if (node.segment && names.indexOf(node.segment) < 0) { names.push(node.segment); }
      if (!names.length) { return [el("span", { "class": "muted", text: "no other segment yet" })]; }
      return [select("segment", "Segment", names, node.segment || names[0])];
    }
    return traitFields(node);
  }

  function traitFields(node) {
    var traits = datalist((vocabulary.traits || []).map(function (t) { return t.name; }));
    var op = node.op || "=";
    var parts = [traits.node, input("trait", "Trait", node.trait || "", { list: traits.id, "class": "name" }),
                 select("op", "Operator", TRAIT_OPS, op)];
    parts.push(op === "in" ? input("list", "Values, comma-separated", showList(node.value))
                           : valueEditor(node.value === undefined ? "" : node.value, "Value"));
    if (op === "set" || op === "not_set") { parts[parts.length - 1].hidden = true; }
    return parts;
  }

  function eventFields(node) {
    var events = datalist(vocabulary.events || []);
    var within = node.within || {};
    var filters = el("span", { "class": "event-filters", "data-role": "filters" },
      (node.where || []).map(filterRow));
    return [
      select("agg", "Aggregate", (vocabulary.aggregates || ["count"]), node.agg || "count"),
      input("property", "Property to add up", node.property || "", node.agg === "sum" ? { "class": "name" } : { "class": "name", hidden: "" }),
      el("span", { text: "of event" }), events.node,
      input("event", "Event name", node.event || "", { list: events.id, "class": "name" }),
      filters,
      el("button", { type: "button", "class": "plain", "data-action": "add-filter", text: "+ where" }),
      el("span", { text: "in last" }),
      input("within", "In the last (blank: any time)", within.last || "", { type: "number", min: "1", "class": "amount" }),
      select("within-unit", "Window unit", vocabulary.units || ["days"], within.unit || "days"),
      select("op", "Operator", COMPARISONS, node.op || ">="),
      valueEditor(node.value === undefined ? 1 : node.value, "Value"),
    ];
  }

  function filterRow(filter) {
    return el("span", { "class": "event-filter", "data-role": "filter" }, [
      el("span", { text: "where" }),
      input("filter-property", "Property", filter.property || "", { "class": "name" }),
      select("filter-op", "Property operator", COMPARISONS.concat(["contains"]), filter.op || "="),
      valueEditor(filter.value === undefined ? "" : filter.value, "Property value"),
      el("button", { type: "button", "class": "plain", "data-action": "remove-filter", "aria-label": "Remove filter", text: "×" }),
    ]);
  }

  function readCondition(row) {
    var kind = row.getAttribute("data-kind");
    var node;
    if (kind === "trait") {
      var name = part(row, "trait").value.trim();
      if (!name) { throw new Incomplete("pick a trait"); }
      var op = part(row, "op").value;
      node = { trait: name, op: op };
      if (op === "in") { node.value = readList(part(row, "list").value); }
      else if (op !== "set" && op !== "not_set") { node.value = readValue(part(row, "value")); }
    } else if (kind === "event") {
      var agg = part(row, "agg").value;
      var eventName = part(row, "event").value.trim();
      if (!eventName) { throw new Incomplete("name the event"); }
      node = { event: eventName, agg: agg };
      if (agg === "sum") {
        node.property = part(row, "property").value.trim();
        if (!node.property) { throw new Incomplete("name the property to add up"); }
      }
      var filters = Array.prototype.map.call(part(row, "filters").querySelectorAll("[data-role='filter']"), function (f) {
        var property = f.querySelector("[data-role='filter-property']").value.trim();
        if (!property) { throw new Incomplete("name the property to filter on"); }
        return { property: property, op: f.querySelector("[data-role='filter-op']").value,
                 value: readValue(f.querySelector("[data-role='value']")) };
      });
      if (filters.length) { node.where = filters; }
      var last = part(row, "within").value;
      if (last !== "") { node.within = { last: Number(last), unit: part(row, "within-unit").value }; }
      node.op = part(row, "op").value;
      node.value = readValue(part(row, "value"));
    } else if (kind === "identity") {
      node = { identity: part(row, "identity").value.trim() };
      if (!node.identity) { throw new Incomplete("name the identity kind"); }
    } else if (kind === "subscribed") {
      node = { subscribed: { channel: part(row, "channel").value, topic: part(row, "topic").value } };
    } else {
      var chosen = part(row, "segment");
      if (!chosen) { throw new Incomplete("there is no other segment to pick"); }
      node = { segment: chosen.value };
    }
    return row.querySelector(":scope > .not-toggle [data-role='not']").checked ? { not: node } : node;
  }

  // --- Groups: all of / any of, nested -------------------------------------------------------

  function groupBox(join, negated, children, isRoot) {
    var group = el("div", { "class": "rule-group" + (isRoot ? " rule-root" : ""), "data-kind": "group", role: "group", "aria-label": isRoot ? "All conditions" : "Group of conditions" });
    var not = el("input", { type: "checkbox", "data-role": "not", "aria-label": "not (negate this group)" });
    not.checked = !!negated;
    var head = el("div", { "class": "group-head" }, [
      el("label", { "class": "not-toggle" }, [not, el("span", { text: "not" })]),
      el("span", { text: "Match" }),
      select("join", "Match all or any", [["and", "all of (and)"], ["or", "any of (or)"]], join),
    ]);
    if (isRoot) { head.firstChild.hidden = true; }  // "not" at the top is a group inside it
    if (!isRoot) { head.appendChild(el("button", { type: "button", "class": "plain", "data-action": "remove", "aria-label": "Remove group", text: "×" })); }
    var list = el("div", { "class": "group-children" }, children);
    var foot = el("div", { "class": "group-foot" }, [
      el("button", { type: "button", "class": "secondary", "data-action": "add-condition", text: "+ Condition" }),
      el("button", { type: "button", "class": "secondary", "data-action": "add-group", text: "+ Group" }),
    ]);
    group.appendChild(head);
    group.appendChild(list);
    group.appendChild(foot);
    return group;
  }

  function fromTree(node, negated) {
    if (node.not) {
      if (negated) { return groupBox("and", true, [fromTree(node, false)], false); }
      return fromTree(node.not, true);
    }
    if (node.and || node.or) {
      var join = node.and ? "and" : "or";
      return groupBox(join, negated, (node[join]).map(function (child) { return fromTree(child, false); }), false);
    }
    return conditionRow(node, negated);
  }

  function readGroup(group) {
    var children = Array.prototype.map.call(group.querySelector(":scope > .group-children").children, function (child) {
      return child.getAttribute("data-kind") === "group" ? readGroup(child) : readCondition(child);
    });
    if (!children.length) { throw new Incomplete("a group has no conditions"); }
    var join = group.querySelector(":scope > .group-head [data-role='join']").value;
    var node = children.length === 1 ? children[0] : {};
    if (children.length > 1) { node[join] = children; }
    return group.querySelector(":scope > .group-head [data-role='not']").checked ? { not: node } : node;
  }

  function showTree(tree) {
    var root;
    if (tree && (tree.and || tree.or)) {
      var join = tree.and ? "and" : "or";
      root = groupBox(join, false, tree[join].map(function (c) { return fromTree(c, false); }), true);
    } else {
      root = groupBox("and", false, [tree ? fromTree(tree, false) : conditionRow(null, false)], true);
    }
    builder.replaceChildren(root);
  }

  // --- Keeping the two sides in step, and the live count -------------------------------------

  function post(path, body) {
    return fetch("/admin/segments/builder/" + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () { window.clearTimeout(timer); timer = window.setTimeout(fn, ms); };
  }

  var previewTurn = 0;
  function preview(definition) {
    var turn = ++previewTurn;
    if (!definition.trim()) { countBox.textContent = "–"; sampleList.replaceChildren(); return; }
    countBox.setAttribute("aria-busy", "true");
    post("preview", { definition: definition }).then(function (answer) {
      if (turn !== previewTurn) { return; }  // a later keystroke already asked again
      countBox.removeAttribute("aria-busy");
      if (!answer.ok) { countBox.textContent = "–"; countNote.textContent = "people (" + answer.data.error.message + ")"; return; }
      countBox.textContent = answer.data.count.toLocaleString("en");
      countNote.textContent = answer.data.count === 1 ? "person matches now" : "people match now";
      sampleList.replaceChildren.apply(sampleList, answer.data.sample.map(function (person) {
        return el("li", {}, [el("a", { href: "/admin/contacts/" + encodeURIComponent(person.id), text: person.name })]);
      }));
    }).catch(function () { countBox.removeAttribute("aria-busy"); });
  }

  var textTurn = 0;
  var builderToText = debounce(function () {
    var tree;
    try {
      tree = readGroup(builder.querySelector(".rule-root"));
    } catch (problem) {
      if (!(problem instanceof Incomplete)) { throw problem; }
      note.textContent = "Finish the condition to update the text: " + problem.message + ".";
      return;
    }
    var turn = ++textTurn;
    post("text", { tree: tree }).then(function (answer) {
      if (turn !== textTurn) { return; }
      if (!answer.ok) { note.textContent = answer.data.error.message; return; }
      note.textContent = "";
      textarea.value = answer.data.definition;
      textError.textContent = "";
      textarea.removeAttribute("aria-invalid");
      preview(answer.data.definition);
    });
  }, 250);

  function textToBuilder(then) {
    var definition = textarea.value;
    var turn = ++textTurn;
    if (!definition.trim()) { showTree(null); textError.textContent = ""; preview(""); return; }
    post("tree", { definition: definition }).then(function (answer) {
      if (turn !== textTurn) { return; }
      if (!answer.ok) {
        textError.textContent = answer.data.error.message;
        textarea.setAttribute("aria-invalid", "true");
        note.textContent = "The builder shows the last definition that made sense.";
        return;
      }
      textError.textContent = "";
      textarea.removeAttribute("aria-invalid");
      note.textContent = "";
      showTree(answer.data.tree);
      preview(definition);
      if (then) { then(); }
    });
  }

  builder.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) { return; }
    var action = button.getAttribute("data-action");
    var group = button.closest(".rule-group");
    if (action === "add-condition") {
      group.querySelector(":scope > .group-children").appendChild(conditionRow(null, false));
    } else if (action === "add-group") {
      group.querySelector(":scope > .group-children").appendChild(groupBox("and", false, [conditionRow(null, false)], false));
    } else if (action === "remove") {
      button.closest(".rule-row, .rule-group").remove();
    } else if (action === "add-filter") {
      part(button.closest(".rule-row"), "filters").appendChild(filterRow({}));
    } else if (action === "remove-filter") {
      button.closest("[data-role='filter']").remove();
    }
    builderToText();
  });

  builder.addEventListener("change", function (event) {
    var target = event.target;
    var role = target.getAttribute("data-role");
    var row = target.closest(".rule-row");
    if (role === "kind") {
      row.setAttribute("data-kind", target.value);
      row.querySelector(".row-fields").replaceChildren.apply(row.querySelector(".row-fields"), conditionFields(target.value, {}));
    } else if (role === "value-kind") {
      showValueParts(target.closest(".value-editor"));
    } else if (role === "op" && row.getAttribute("data-kind") === "trait") {
      refreshTraitValue(row);
    } else if (role === "trait") {
      var editor = part(row, "value");
      if (editor && !editor.querySelector("[data-role='value-text']").value) {
        editor.querySelector("[data-role='value-kind']").value = defaultKindFor(traitTypes[target.value.trim()]);
        showValueParts(editor);
      }
    }
    if (row && row.getAttribute("data-kind") === "event") {
      part(row, "property").hidden = part(row, "agg").value !== "sum";
    }
    builderToText();
  });
  builder.addEventListener("input", function (event) {
    if (event.target.tagName === "INPUT" && event.target.type !== "checkbox") { builderToText(); }
  });

  function refreshTraitValue(row) {
    var op = part(row, "op").value;
    var fields = row.querySelector(".row-fields");
    var current = part(row, "list") || part(row, "value");
    var wantsList = op === "in";
    if (wantsList !== (current.getAttribute("data-role") === "list")) {
      var replacement = wantsList ? input("list", "Values, comma-separated", "")
        : valueEditor(defaultKindFor(traitTypes[part(row, "trait").value.trim()]) === "number" ? 0 : "", "Value");
      fields.replaceChild(replacement, current);
      current = replacement;
    }
    current.hidden = op === "set" || op === "not_set";
  }

  textarea.addEventListener("input", debounce(function () { textToBuilder(null); }, 300));

  document.getElementById("builder-side").hidden = false;
  document.getElementById("preview").hidden = false;
  form.classList.add("has-builder");
  if (textarea.value.trim()) { textToBuilder(null); } else { showTree(null); }
})();
