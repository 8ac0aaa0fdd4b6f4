#!/usr/bin/env python3
"""Writes protocol/openapi.json, the OpenAPI 3.1 description of `kkt serve`.

The receipt schemas come from protocol/receipt.schema.json (its $defs become
components/schemas/Receipt<Name>); everything else is described here. Run it after changing
either, from anywhere: `python3 tools/gen_openapi.py`. tests/it/http/api.rs checks that the
committed file carries the receipt schema unchanged and that every answer of the service is
valid under it.
"""
import collections
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
R = json.load(open(ROOT + '/protocol/receipt.schema.json'), object_pairs_hook=collections.OrderedDict)

def ref(n): return {"$ref": "#/components/schemas/" + n}
def obj(props, required=None, desc=None, extra=False):
    o = collections.OrderedDict()
    o["type"] = "object"
    if desc: o["description"] = desc
    o["additionalProperties"] = extra
    o["required"] = required if required is not None else list(props.keys())
    o["properties"] = props
    return o
I = lambda d=None, **kw: dict({"type": "integer", "minimum": 0}, **({"description": d} if d else {}), **kw)
S = lambda d=None, **kw: dict({"type": "string"}, **({"description": d} if d else {}), **kw)
B = lambda d=None: dict({"type": "boolean"}, **({"description": d} if d else {}))
def nullable(s):
    s = dict(s); t = s.get("type")
    if t: s["type"] = [t, "null"]; return s
    return {"oneOf": [s, {"type": "null"}]}
DT = S("Date and time, YYYY-MM-DDTHH:MM:SS (the register's clock).", pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")
MONEY_OUT = S("Roubles with two decimals.", pattern="^[0-9]+\\.[0-9]{2}$")

def receipt_components():
    s = collections.OrderedDict((k, v) for k, v in R.items() if k not in ("$schema", "$id", "$defs"))
    text = json.dumps(s, ensure_ascii=False)
    out = collections.OrderedDict()
    for k in R.get("$defs", {}):
        name = "Receipt" + "".join(p.capitalize() for p in k.split("_"))
        text = text.replace('"#/$defs/%s"' % k, '"#/components/schemas/%s"' % name)
    out["Receipt"] = json.loads(text, object_pairs_hook=collections.OrderedDict)
    for k, v in R.get("$defs", {}).items():
        name = "Receipt" + "".join(p.capitalize() for p in k.split("_"))
        t = json.dumps(v, ensure_ascii=False)
        for k2 in R["$defs"]:
            t = t.replace('"#/$defs/%s"' % k2, '"#/components/schemas/Receipt%s"' % "".join(p.capitalize() for p in k2.split("_")))
        out[name] = json.loads(t, object_pairs_hook=collections.OrderedDict)
    return out

KINDS = ["input", "unauthorized", "forbidden", "not_found", "method_not_allowed", "timeout", "too_large",
         "unsupported_media_type", "sequence", "in_progress", "pending", "id_reused", "register_busy", "device", "protocol", "busy",
         "link", "not_formed", "unknown_outcome", "journal", "internal", "mark_refused"]

sc = collections.OrderedDict()
sc["Error"] = obj({"error": obj({
    "kind": {"enum": KINDS, "description": "What happened: input (400, the field is named), unauthorized (401), forbidden (403: a web page's Origin or a foreign Host), not_found (404), method_not_allowed (405), timeout (408: the body did not arrive in time), too_large (413), unsupported_media_type (415: a body not declared application/json), sequence / in_progress / pending / id_reused / register_busy (409: register_busy is a document another program has open on the register, nothing sent or cancelled), device / protocol (502), busy (503: nothing was sent, repeat later), link (503 unreachable, 504 no answer), not_formed (504: the answer was lost and nothing was formed, safe to repeat), unknown_outcome (504: check before repeating), journal / internal (500), mark_refused (422: the marked-goods check refused an item of the receipt, or asked and nobody accepted: the receipt was cancelled, nothing formed; `verdict` says why)."},
    "code": {"type": ["integer", "null"], "minimum": 0, "maximum": 255, "description": "The register's error code (kind device), else null."},
    "message": S("What happened (for device errors: the code with its Russian and English texts)."),
    "hint": S("What to do."),
    "verdict": ref("Verdict"),
    "item": I("kind mark_refused: the index of the refused item."),
    "sent": {"type": "array", "items": I(maximum=255), "description": "kind mark_refused: the commands sent for the receipt before it was given up, in order."},
}, required=["kind", "code", "message", "hint"])}, desc="Every error answer (kind mark_refused adds the item, its verdict and the commands sent).")
sc.update(receipt_components())
sc["CorrectionReceipt"] = {"description": "A receipt with `correction` (the date of the corrected settlement, and the tax authority's order number if any).", "allOf": [ref("Receipt")], "required": ["correction"]}
sc["Cashier"] = R["properties"]["cashier"]
sc["ShiftRequest"] = obj({"cashier": ref("Cashier")}, required=[], desc="Optional: the cashier (default: the config file's [cashier], else \"Кассир\"; closing defaults to the cashier who opened). An empty body is `{}`.")
sc["EmptyRequest"] = obj({}, required=[], desc="No fields: send `{}` or no body.")
flags = obj({"raw": I("Tag 2106 as a byte.", maximum=255), "checked": B("The code was checked."), "crypto_ok": B("The crypto tail check is positive."),
             "status_checked": B("The OISM checked the planned status."), "status_correct": B("The OISM says the planned status is correct."),
             "autonomous": B("Checked in autonomous mode."), "reserved_bits": I(maximum=255)}, desc="Tag 2106 «результат проверки сведений о товаре», as named flags.")
sc["Tag2106"] = flags
sc["LocalCheck"] = obj({"result": I("Tag 2004: 0 not checked by the FN, 1 checked and negative, 3 checked and positive.", maximum=255),
                        "reason": I("Why not checked: 0 checked, 1 the type is not checked in the FN, 2 no key, 3 AIs 91/92 missing, 4 other.", maximum=255)}, desc="0x91: the FN's own check of the code.")
sc["ItemMark"] = obj(collections.OrderedDict([("item", I("Index of the item in the receipt.")), ("tag2106", ref("Tag2106")),
    ("check", obj({"local": ref("LocalCheck"), "online": {"oneOf": [obj({"result": ref("Tag2106")}), {"type": "null"}], "description": "0x92: the OISM's answer (null in autonomous mode)."}})),
    ("source", {"oneOf": [{"enum": ["online", "tspiot", "tspiot_lm", "lm", "none"]}, {"type": "null"}], "description": "With the marked-goods checker: where its verdict came from (online: ГИС МТ directly; tspiot: ГИС МТ through the store's ТС ПИОТ; tspiot_lm: the Local Module through the ТС ПИОТ; lm: the Local Module directly; none: no answer); null without a checker."}),
    ("tag1265", {"type": ["string", "null"], "description": "Tag 1265 sent in the item's 1260 (null when no check answered, or without a checker)."}),
    ("notes", {"type": "array", "items": S(), "description": "The checker's notes (no answer in time, emergency, accepted by the cashier …)."}),
    ("check_id", {"type": ["integer", "null"], "description": "The verdict's row in the store's evidence trail (kkt mark checks), which now carries this receipt's FD number."})]), desc="A marked item's check in a receipt.")
sc["ReceiptResult"] = obj(collections.OrderedDict([
    ("receipt_number", I("Receipt number in the shift.")), ("fd_number", I("Fiscal document number (ФД).")),
    ("fiscal_sign", I("Fiscal sign (ФП).")), ("shift_number", I("Shift number.")), ("datetime", DT),
    ("total", MONEY_OUT), ("change", MONEY_OUT),
    ("recovered", B("The register's answer was lost and the document was confirmed from the FN archive.")),
    ("marks", {"type": "array", "items": ref("ItemMark"), "description": "Marked items' checks (empty when replayed)."}),
    ("id", {"type": ["string", "null"], "description": "The receipt's idempotency id, if given."}),
    ("replayed", B("True when this id was formed before: the journal's document is returned and nothing was sent.")),
    ("journal_seq", I("The journal entry.")),
    ("document", {"enum": ["receipt", "correction"], "description": "receipt, or correction: a correction receipt («ЧЕК КОРРЕКЦИИ», POST /v1/corrections)."}),
    ("defaults", {"type": "array", "items": ref("RequisiteDefault"), "description": "The settlement requisites the receipt left out and kkt took from the registration: a register registered for vending, delivery or one-to-many settlements needs tags 1009, 1187 and 1036 in every receipt."})]),
    required=["receipt_number", "fd_number", "fiscal_sign", "shift_number", "datetime", "total", "change", "recovered", "replayed", "journal_seq", "marks", "id", "document", "defaults"], desc="The formed document (the CLI's `kkt --json receipt` output, with id, replayed and journal_seq).")
sc["RequisiteDefault"] = obj(collections.OrderedDict([("field", {"enum": ["settlement_address", "settlement_place", "automat_number"]}),
    ("tag", {"enum": [1009, 1187, 1036]}), ("value", S("The value sent.")), ("source", {"enum": ["registration"], "description": "The register's last registration report (0x3B)."})]),
    desc="A settlement requisite taken from the registration because the receipt left it out.")
sc["Warnings"] = obj({"raw": I(maximum=255), "set": {"type": "array", "items": S()}}, desc="FN warning flags, raw and named.")
sc["ShiftReport"] = obj({"shift_number": I(), "fd_number": I(), "fiscal_sign": I(), "warnings": ref("Warnings")}, desc="The shift open or close report.")
sc["SettlementReport"] = obj({"fd_number": I(), "fiscal_sign": I(), "unconfirmed": I("Documents not yet confirmed by the OFD."),
    "first_unconfirmed": {"type": ["string", "null"], "format": "date", "description": "Date of the first unconfirmed document."}}, desc="The settlement status report.")
sc["Status"] = obj(collections.OrderedDict([
    ("register", obj({"serial": S(), "datetime": DT, "critical_errors": I(maximum=255), "printer_status": I("0 ok; 1 not connected; 2 no paper; 3 jam; 5 cover open; 6 cutter; 7 hardware.", maximum=255),
                      "fn_present": I(maximum=255), "fn_phase": I(maximum=255), "extra": S("Further status bytes, hex.")}, desc="0x01: serial number, clock, printer, FN.")),
    ("fn", obj({"phase": I(maximum=255), "current_document": I("The open document: 0 none, 4 receipt, 20 correction …", maximum=255), "document_data": I(maximum=255),
                "shift_open": I(maximum=255), "warnings": I(maximum=255), "last_document_datetime": DT, "fn_number": S(), "last_fd_number": I()}, desc="0x08: the FN status.")),
    ("shift", obj({"open": B(), "shift_number": I(), "receipt_number": I()}, desc="0x20: the shift.")),
    ("session", obj({"shift": {"enum": ["closed", "opening", "open", "closing"]},
                     "shift_opened_at": {"type": ["string", "null"]},
                     "document": {"oneOf": [{"type": "null"}, {"type": "array", "prefixItems": [{"enum": ["receipt", "correction", "settlement", "registration", "fn_close"]}, {"enum": ["open", "items", "requisites", "payment", "unknown"]}], "minItems": 2, "maxItems": 2}], "description": "The open document and its stage, or null."},
                     "mark": {"enum": ["idle", "checked", "online_checked"]}, "saved_marks": I(maximum=255), "autonomous": B()}, desc="The command-order state the driver works with.")),
    ("marking", obj({"check_state": I(maximum=255), "notification_state": I(maximum=255), "allowed_commands": I(maximum=255), "kept_results": I(maximum=255),
                     "notification_codes": I(maximum=255), "storage_warning": I(maximum=255), "notification_queue": I()}, desc="0x90: the marking state.")),
    ("oism_notifications", {"oneOf": [obj({"state": I(maximum=255), "queue": I(), "current": I(), "current_datetime": {"type": ["string", "null"]}, "storage_percent": I(maximum=255)}), {"type": "null"}], "description": "0x9E: the OISM notification queue (null when the register does not answer it)."}),
    ("fn_memory", {"oneOf": [obj({"documents_5y": I(), "kilobytes_30d": I(), "notifications_percent": {"type": ["integer", "null"]}}), {"type": "null"}], "description": "0x9D: FN resources (null when not answered)."}),
    ("mark_check", {"$ref": "#/components/schemas/MarkCheckStatus", "description": "GET /v1/status only: the marked-goods check (the ТС ПИОТ's /info)."}),
    ("ofd", {"oneOf": [ref("OfdStatus"), {"type": "null"}], "description": "The exchange with the OFD (0x50, 0x32) and its warnings (null when the register does not answer)."}),
]), required=["register", "fn", "shift", "session", "marking", "oism_notifications", "fn_memory", "ofd"], desc="The register at a glance (the CLI's `kkt --json status`; GET /v1/status adds mark_check).")
doc = obj({"fd_number": I(), "fiscal_sign": I(), "datetime": {"type": ["string", "null"]}, "shift_number": {"type": ["integer", "null"]}, "receipt_number": {"type": ["integer", "null"]}})
sc["JournalEntry"] = obj(collections.OrderedDict([
    ("seq", I("Sequence number in the journal.")), ("id", {"type": ["string", "null"], "description": "The POS's idempotency id."}),
    ("operation", S("sell, sell_return, buy, buy_return, correction_sell … (a correction receipt), open_shift, close_shift, settlement_report, cash_in, cash_out.")),
    ("content_hash", S("SHA-256 of the request's content, hex.")), ("device", {"type": ["string", "null"], "description": "The FN number it was sent to."}),
    ("expected_fd", {"type": ["integer", "null"], "description": "The FD number the document would get."}),
    ("total", {"type": ["integer", "null"], "description": "The receipt's total in kopecks (receipts); the amount of cash in or out."}),
    ("state", {"enum": ["pending", "formed", "not_formed"], "description": "pending: sent, the outcome not known yet (POST /v1/recover settles it); formed: see document; not_formed: nothing was formed (note says why): the id may be sent again."}),
    ("document", {"oneOf": [doc, {"type": "null"}], "description": "The document, when formed."}),
    ("note", {"type": ["string", "null"], "description": "Why it was not formed, or what is unknown."}),
    ("cash_before", {"type": "integer", "minimum": 0, "description": "Cash in and out: the cash in the drawer before, kopecks (the outcome is judged by the money counters)."}),
    ("cash_after", {"type": "integer", "minimum": 0, "description": "Cash in and out, once done: the cash in the drawer after, kopecks."}),
    ("created_at", S("UTC, ISO 8601.")), ("updated_at", S("UTC, ISO 8601."))]),
    required=["seq", "id", "operation", "content_hash", "device", "expected_fd", "total", "state", "document", "note", "created_at", "updated_at"],
    desc="A journal entry: the outcome of a fiscal document, or of cash in or out.")
sc["JournalList"] = obj({"entries": {"type": "array", "items": ref("JournalEntry"), "description": "Newest first."}})
sc["RecoverResult"] = obj({"settled": {"type": "array", "items": ref("JournalEntry"), "description": "Entries settled now."}, "pending": {"type": "array", "items": ref("JournalEntry"), "description": "Entries still pending."}})
st = R["$defs"]["item"]["properties"]
code_obj = obj(collections.OrderedDict([("code", S("The marking code as scanned (GS as U+001D).", minLength=1)),
    ("planned_status", dict(st["planned_status"], description="Tag 2003 for the register's check; default piece_sold (measured_sold for a measure other than piece).")),
    ("quantity", dict(st["quantity"], description="Default 1.")), ("measure", st["measure"]), ("fraction", st["fraction"]),
    ("price", dict(st["price"], description="Selling price per unit after discounts, roubles: the tobacco MRP rule.")),
    ("partial_sale", B("Sold partly (draught beer, part of a package): repeats allowed for those groups."))]), required=["code"])
sc["MarkCheckRequest"] = obj(collections.OrderedDict([("codes", {"type": "array", "minItems": 1, "maxItems": 100, "items": {"oneOf": [S("A code alone: one piece sold.", minLength=1), code_obj]}, "description": "The codes of one receipt (a code twice is a duplicate in the receipt). Each is parsed as scanned (GS as U+001D, \\u001d, <GS>, {GS}; a ]d2 prefix): a code that does not parse is 400 naming it."}),
    ("seller_inn", S("The legal entity selling the codes ([[marking.entity]]): its token and its sold codes; default the register's registration INN.", pattern="^([0-9]{10}|[0-9]{12})$"))]), required=["codes"], desc="Codes to check: strings, or objects with the planned status, quantity and price.")
reason = obj({"field": S("The fact it rests on (found, sold, isBlocked, expireDate, price, 2106 …)."),
              "rule": {"enum": ["not_found", "not_utilised", "invalid_structure", "not_verified", "sold", "blocked", "not_realizable", "expired", "price_not_mrp", "mrp_mismatch", "below_minimum_price", "duplicate_in_receipt", "sold_by_this_store", "error_code", "check_failed", "check_required", "device_crypto_negative", "device_status_incorrect", "device_refused"], "description": "The rule, a stable code: §4 of the methodology (not_found … expired, price_not_mrp), §6 (duplicate_in_receipt, sold_by_this_store, below_minimum_price), error_code (the answer's errorCode 1–11), check_failed (the check itself failed), check_required (no check answered and the service requires one), the register's (device_…)."},
              "message": S("In English."),
              "message_ru": S("In Russian: what the POS shows the cashier.")})
sc["MarkReason"] = reason
sc["RegisterMarkCheck"] = obj(collections.OrderedDict([("fn_check", ref("LocalCheck")),
    ("oism", {"oneOf": [obj({"result": ref("Tag2106")}), {"type": "null"}], "description": "0x92: the OISM's answer (null in autonomous mode)."}),
    ("tag2106", {"oneOf": [ref("Tag2106"), {"type": "null"}], "description": "Tag 2106 from the OISM's answer."}),
    ("explained", {"type": ["array", "null"], "items": S(), "description": "Each bit of 2106 in English."})]),
    desc="The register's own check (0x91 the FN, 0x92 the OISM); the result is then deleted (0x94 with 0), so nothing stays pending.")
sc["RegisterRefusal"] = obj(collections.OrderedDict([("command", I("The command refused (0x91 the FN's check, 0x92 the OISM's).", maximum=255)),
    ("code", I("The register's error code.", maximum=255)), ("ru", S("The error table's Russian text.")), ("en", S("The English text.")), ("hint", S("What to do."))]),
    desc="The register refused the code outright (the action is then refuse, whatever the strictness); the other codes of the request are still checked.")
sc["Verdict"] = obj(collections.OrderedDict([
    ("code", S("The code (GS as U+001D).")), ("print_view", S("The code without its crypto part.")),
    ("allowed", B("True when the item may be sold without asking.")), ("action", {"enum": ["sell", "refuse", "ask"], "description": "ask: show the reasons to the cashier (with the checker in ask mode)."}),
    ("reasons", {"type": "array", "items": ref("MarkReason"), "description": "Every reason against the sale: the checker's and the register's (2106)."}),
    ("notes", {"type": "array", "items": S(), "description": "Facts that are not reasons (no answer in time, no online check configured, gray zone …)."}),
    ("source", {"enum": ["online", "tspiot", "tspiot_lm", "lm", "none"], "description": "Where the checker's facts came from: online (ГИС МТ directly), tspiot (ГИС МТ through the store's ТС ПИОТ), tspiot_lm (the Local Module through the ТС ПИОТ, judged on isBlocked and sold only), lm (the Local Module directly, when the ТС ПИОТ or ГИС МТ gave no answer), none (no answer: the register's check alone; notes say what failed)."}),
    ("emergency", B("ГИС МТ or the ТС ПИОТ declared an emergency (HTTP 203): sold without a check, no tag 1260.")),
    ("req_id", {"type": ["string", "null"]}), ("req_timestamp", {"type": ["integer", "null"], "description": "Unix ms."}),
    ("tag1265", {"type": ["string", "null"], "description": "The tag 1265 value for the item: UUID=<reqId>&Time=<reqTimestamp> online; with &Inst=<inst>&Ver=<version> from the Local Module (directly or through the ТС ПИОТ); null when no check answered or in an emergency."}),
    ("host", {"type": ["string", "null"], "description": "The ГИС МТ host that answered."}),
    ("info", {"type": ["object", "null"], "description": "The service's entry for the code (ГИС МТ /codes/check fields, camelCase)."}),
    ("inn", {"type": ["string", "null"], "description": "The legal entity the code was checked for (seller_inn, else the register's registration INN), when known."}),
    ("confirmation", S("With action ask: the token of the cashier's acceptance. Give it back as the receipt item's `mark_confirmation` (POST /v1/receipts) to sell the item: it lets exactly these reasons pass for this code within 10 minutes; a new reason, another code or an older token is refused (422 mark_refused).")),
    ("check_id", I("The verdict's row in the store's evidence trail (`kkt mark checks`, `kkt mark history`).")),
    ("register", {"oneOf": [ref("RegisterMarkCheck"), {"type": "null"}], "description": "The register's check; null when it refused the code (see register_error)."}),
    ("register_error", ref("RegisterRefusal"))]),
    required=["code", "print_view", "allowed", "action", "reasons", "notes", "source", "emergency", "req_id", "req_timestamp", "tag1265", "host", "info", "inn"],
    desc="The verdict for one code (the format of `kkt mark check --json --device`).")
lm_view = obj(collections.OrderedDict([("status", {"type": ["string", "null"]}), ("version", {"type": ["string", "null"]}),
    ("last_sync", {"type": ["integer", "null"], "description": "Unix ms."}), ("address", {"type": ["string", "null"], "description": "http://ip:port"}),
    ("token_expires", {"type": ["string", "null"], "description": "ISO 8601 (the token itself is never shown)."})]), desc="The Local Module the ТС ПИОТ reports.")
sc["TsPiotStatus"] = obj(collections.OrderedDict([
    ("url", S("The ТС ПИОТ's base URL.")), ("api_version", {"type": ["integer", "null"], "enum": [1, 2, 3, None], "description": "The API version that answered /info."}),
    ("tspiot_id", {"type": ["string", "null"]}), ("kkt_serial", {"type": ["string", "null"]}), ("fn_serial", {"type": ["string", "null"]}),
    ("kkt_inn", {"type": ["string", "null"]}), ("check_timeout_ms", {"type": ["integer", "null"], "description": "codesCheckTimeout: kkt waits this + 300 ms."}),
    ("lm", {"oneOf": [lm_view, {"type": "null"}]}),
    ("matches_register", {"type": ["boolean", "null"], "description": "Bound to the connected register (its FN serial); null without a register."})]),
    desc="The ТС ПИОТ's /info (the format of `kkt mark tspiot-status --json`).")
sc["MarkCheckStatus"] = obj(collections.OrderedDict([
    ("path", {"enum": ["tspiot", "gismt", "lm", "none"], "description": "How codes are checked: through the store's ТС ПИОТ (the Local Module when it gives no answer), ГИС МТ directly, the Local Module alone, or not at all."}),
    ("tspiot", {"oneOf": [ref("TsPiotStatus"), obj({"url": S(), "error": S("Why /info gave nothing.")}), {"type": "null"}], "description": "null without a ТС ПИОТ."}),
    ("store", B("The sold-codes store (and its evidence trail) is on.")),
    ("require_check", B("A marked item no check answered is refused (--mark-check required).")),
    ("emergency", {"oneOf": [ref("Emergency"), {"type": "null"}], "description": "The emergency of seed 003 §7 (null without a cache directory)."}),
    ("entities", {"type": "array", "items": S(), "description": "The INNs of the other legal entities ([[marking.entity]])."})]),
    desc="The marked-goods check of the service.")
sc["Emergency"] = obj(collections.OrderedDict([
    ("emergency", B("Checks are off: during ГИС МТ's emergency and 3 days after the last HTTP 203, or declared by hand (kkt mark emergency on).")),
    ("since", {"type": ["string", "null"], "description": "ISO 8601, UTC."}),
    ("until", {"type": ["string", "null"], "description": "ISO 8601, UTC; null while declared by hand and not ended."}),
    ("cause", {"enum": ["203", "manual", None], "description": "203: ГИС МТ answered 203; manual: the store declared it."}),
    ("last_203", {"type": ["string", "null"], "description": "The last HTTP 203 seen."}),
    ("last_203_from", {"type": ["string", "null"], "description": "What answered it."})]), desc="The emergency latch (`kkt mark emergency status --json`).")
sc["MarkCheckResult"] = obj({"verdicts": {"type": "array", "items": ref("Verdict"), "description": "In the order of the codes."}})

MONEY_IN = R["properties"]["payments"]["properties"]["cash"]
money_out = lambda d: dict(MONEY_OUT, description=d)
sc["CashRequest"] = obj(collections.OrderedDict([("amount", dict(MONEY_IN, description="Roubles, at least 0.01: a decimal string (\"1000.00\") or JSON number, converted exactly to kopecks.")),
    ("id", {"type": "string", "minLength": 1, "maxLength": 128, "description": "Idempotency key: done at most once; a second request with the same id and amount answers the first outcome (replayed)."})]),
    required=["amount"], desc="Cash in or out of the drawer.")
sc["CashResult"] = obj(collections.OrderedDict([("operation", {"enum": ["cash_in", "cash_out"]}), ("amount", money_out("The amount.")),
    ("cash_before", money_out("Cash in the drawer before.")), ("cash_after", money_out("Cash in the drawer after.")),
    ("recovered", B("The register's answer was lost and the money counters (0xB0) showed it was done.")),
    ("replayed", B("This id was done before: the journal's outcome is returned and nothing was sent.")),
    ("journal_seq", I("The journal entry.")), ("id", {"type": ["string", "null"]})]), desc="Cash moved (0xB3 in, 0xB4 out), journaled.")
sc["MoneyTotals"] = obj({"cash": money_out("Cash in the drawer (0xB0)."), "electronic": money_out("Electronic payments (0xB0).")}, desc="The money counters.")
sc["ShiftCounters"] = obj({"shift": obj({"open": B(), "shift_number": I(), "receipt_number": I()}), "money": ref("MoneyTotals"), "datetime": DT},
    desc="The shift's counters (0x20, 0xB0): the register has no X-report command; this is the nearest, nothing printed or formed.")
sc["OfdStatus"] = obj(collections.OrderedDict([
    ("exchange", obj({"status": I(maximum=255), "read_state": I(maximum=255), "queue_len": I(), "first_document": I(), "first_document_datetime": DT}, desc="0x50 as the register gives it.")),
    ("queue", I("Documents waiting for the OFD.")), ("first_unsent", {"type": ["integer", "null"], "description": "The first document waiting."}),
    ("first_unsent_at", {"oneOf": [DT, {"type": "null"}], "description": "When it was formed."}),
    ("unconfirmed", {"type": ["integer", "null"], "description": "Documents the OFD has not confirmed (0x32)."}),
    ("register_time", DT), ("waiting_hours", {"type": ["integer", "null"], "description": "How long the first document has waited."}),
    ("warnings", {"type": "array", "items": S(), "description": "The first unsent document older than 24 hours; the FN's 30-day limit near."})]), desc="The exchange with the OFD.")
item_props = collections.OrderedDict(sc["ReceiptItem"]["properties"])
item_props["total"] = money_out("Tag 1043: the item's total as the FN computed it.")
stored_item = {"type": "object", "additionalProperties": False, "required": ["name", "price", "quantity", "vat", "payment_method", "payment_object"], "properties": item_props, "description": "An item read back from the FN archive (STLV 1059) in the receipt JSON's form, with its total."}
sc["StoredItem"] = stored_item
opt = lambda s_: {"oneOf": [s_, {"type": "null"}]}
sc["StoredDocument"] = obj(collections.OrderedDict([
    ("fd_number", I("Fiscal document number.")), ("document_type", I("The form code (Приложение 6): 1 registration, 11 re-registration, 2 shift open, 3 receipt, 31 correction receipt, 5 shift close, 21 settlement report, 6 FN close.", maximum=255)),
    ("document", {"enum": ["registration", "registration_change", "shift_open", "settlement_report", "receipt", "correction", "bso", "bso_correction", "shift_close", "fn_close", "operator_confirmation", "other"]}),
    ("title", S("The printed title (КАССОВЫЙ ЧЕК, ЧЕК КОРРЕКЦИИ …).")), ("datetime", DT),
    ("fiscal_sign", I("The fiscal sign as printed (ФП): tag 1077's last four bytes, big-endian; 0x24 and 0x30 give the same number.")),
    ("ofd_confirmed", B("The OFD confirmed the document.")), ("fn_number", S("Tag 1041.")), ("shift_number", I("Tag 1038.")), ("receipt_number", I("Tag 1042.")),
    ("operation", R["properties"]["operation"]), ("total", money_out("Tag 1020.")), ("taxation", R["properties"]["taxation"]),
    ("items", {"type": "array", "items": ref("StoredItem")}),
    ("payments", obj({k: money_out("Tag %s." % t) for k, t in [("cash", 1031), ("electronic", 1081), ("prepayment", 1215), ("credit", 1216), ("consideration", 1217)]})),
    ("cashier", S("Tag 1021.")), ("cashier_inn", S("Tag 1203.")), ("settlement_address", S("Tag 1009.")), ("settlement_place", S("Tag 1187.")),
    ("automat_number", S("Tag 1036.")), ("additional_requisite", S("Tag 1192.")), ("user_requisite", R["properties"]["user_requisite"]),
    ("industry_requisites", {"type": "array", "items": ref("ReceiptIndustryRequisite")}), ("customer", R["properties"]["customer"]),
    ("corrected_date", DT), ("order_number", S("Tag 1179.")), ("user_name", S("Tag 1048.")),
    ("reregistration_reasons", {"type": "array", "items": S(), "description": "Tag 1205 by name."}),
    ("tlv", {"type": "array", "description": "Every TLV of the document, as `kkt decode --json` shows them."})]),
    required=["fd_number", "document_type", "document", "title", "datetime", "fiscal_sign", "ofd_confirmed", "tlv"], desc="A fiscal document from the FN archive (0x30 and 0x3A), printed like the document it was.")
sc["PrintRequest"] = obj(collections.OrderedDict([("text", S("Lines of text (newline-separated): 0x61 each, or 0x64/0x65 with buffered.")),
    ("buffered", B("Through the print buffer (0x64, 0x65).")), ("cut", B("Cut the paper after the text (0x62).")),
    ("qr", S("A QR code (0x63), at least 6 characters.", minLength=6)), ("barcode", S("A barcode (0x69).", minLength=1)),
    ("barcode_type", {"enum": ["ean13", "code128"], "default": "ean13"})]), required=[], desc="Exactly one of text, qr, barcode.")
sc["PrintResult"] = obj({"printed": B(), "commands": {"type": "array", "items": I(maximum=255), "description": "The commands sent."}, "lines": I("Lines of text printed.")})

def err(desc): return {"description": desc, "content": {"application/json": {"schema": ref("Error")}}}
responses = collections.OrderedDict([
    ("BadRequest", err("Bad input: the field is named; nothing was sent.")),
    ("Unauthorized", err("No or wrong bearer token.")),
    ("Forbidden", err("A request from a web page (an `Origin` not allowed with --allow-origin) or for a foreign `Host` (DNS rebinding): refused before anything else.")),
    ("RequestTimeout", err("The body did not arrive within the body deadline; nothing was sent.")),
    ("UnsupportedMediaType", err("The body is not declared `Content-Type: application/json`; nothing was sent.")),
    ("NotFound", err("Not found.")),
    ("Conflict", err("Out of order for the register (kind sequence), an id being formed by another request (in_progress), an earlier attempt with this id whose outcome the register cannot tell now (pending), an id used before for different content (id_reused), a document another program has open on the register (register_busy: nothing was sent, nothing cancelled).")),
    ("TooLarge", err("The body is over 1 MiB.")),
    ("Internal", err("The journal's disk or a fault of the service; never bad input.")),
    ("BadGateway", err("The register refused (kind device: code and texts) or answered garbage (protocol).")),
    ("MarkRefused", err("kind mark_refused: the marked-goods check refused an item (or asked, and the item had no `mark_confirmation` that applies): the receipt was cancelled, nothing was formed. `item` and `verdict` say which and why (reasons with `message_ru` for the cashier); `sent` lists the commands sent before.")),
    ("Unavailable", err("busy: the queue is full or the request waited longer than the queue timeout (nothing was sent; Retry-After); link: the register cannot be reached.")),
    ("GatewayTimeout", err("The register did not answer in time (link), or a fiscal command's answer was lost: not_formed (safe to repeat) or unknown_outcome (check GET /v1/receipts/{id} or POST /v1/recover first).")),
])
def R_(*names): return {n: {"$ref": "#/components/responses/" + nm} for n, nm in names}
dev_errs = [("401", "Unauthorized"), ("500", "Internal"), ("502", "BadGateway"), ("503", "Unavailable"), ("504", "GatewayTimeout")]
def ok(schema, desc): return {"200": {"description": desc, "content": {"application/json": {"schema": ref(schema)}}}}
def body(schema, required=True, desc=None, example=None):
    b = {"required": required, "content": {"application/json": {"schema": ref(schema)}}}
    if desc: b["description"] = desc
    if example is not None: b["content"]["application/json"]["example"] = example
    return b
def op(opid, summary, desc, resp_schema, resp_desc, errs, request=None, params=None, tags=None):
    o = collections.OrderedDict()
    o["operationId"] = opid; o["summary"] = summary; o["description"] = desc
    if tags: o["tags"] = tags
    if params: o["parameters"] = params
    if request: o["requestBody"] = request
    errs = list(errs) + [("403", "Forbidden")] + ([("408", "RequestTimeout"), ("415", "UnsupportedMediaType")] if request else [])
    r = ok(resp_schema, resp_desc); r.update(R_(*sorted(errs))); o["responses"] = r
    return o
sale_example = json.load(open(ROOT + '/fixtures/receipts/sale.json'), object_pairs_hook=collections.OrderedDict)
sale_example = collections.OrderedDict([("id", "till-3-000142")] + list(sale_example.items()))
paths = collections.OrderedDict()
paths["/v1/status"] = {"get": op("getStatus", "The register at a glance", "Register (serial, clock, printer), FN (phase, open document, last FD), shift, marking state (0x90), OISM notification queue (0x9E), FN resources (0x9D), and mark_check: the path of the marked-goods check with the ТС ПИОТ's /info.", "Status", "The status.", dev_errs, tags=["register"])}
paths["/v1/shift/open"] = {"post": op("openShift", "Open a shift", "0x21, 0xE4 with the cashier, 0x22. The register may update its marking-code keys first (~15 s or more). Journaled.", "ShiftReport", "The shift open report.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge")] + dev_errs, request=body("ShiftRequest", False, example={"cashier": {"name": "Иванова А.А.", "inn": "500100732259"}}), tags=["shift"])}
paths["/v1/shift/close"] = {"post": op("closeShift", "Close the shift", "0x29, 0xE5 with the cashier, 0x2A. Journaled.", "ShiftReport", "The shift close report.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge")] + dev_errs, request=body("ShiftRequest", False), tags=["shift"])}
paths["/v1/reports/settlement"] = {"post": op("settlementReport", "Form the settlement status report", "0x27, 0x28. Journaled.", "SettlementReport", "The report.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge")] + dev_errs, request=body("EmptyRequest", False), tags=["shift"])}
paths["/v1/receipts"] = {"post": op("formReceipt", "Form a receipt (sale, refund, purchase, purchase return)",
    "The receipt JSON of `kkt receipt`. Checked before anything is sent (400 names the field). Marked items are checked as POST /v1/marks/check does (the same verdict); a refusal is 422 mark_refused and the receipt is cancelled. A verdict that asks (`--mark-strict ask`) needs the item's `mark_confirmation`: the `confirmation` of that code's verdict from POST /v1/marks/check. A refund is `operation: sell_return`. With `id`, the receipt is formed at most once: a repeated request with the same id and content answers the same document (`replayed: true`); the same id with other content is 409 id_reused; while the first request is in flight a second one is 409 in_progress. Concurrent requests are queued: one document at a time on the register. A request that waited longer than the queue timeout is answered 503 busy with nothing sent. Once the register takes a receipt up it is finished and journaled even if the client disconnects: ask GET /v1/receipts/{id}.",
    "ReceiptResult", "The formed document.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge"), ("422", "MarkRefused")] + dev_errs,
    request=body("Receipt", True, example=sale_example), tags=["receipts"])}
paths["/v1/receipts/{id}"] = {"get": op("receiptOutcome", "The outcome of a receipt by its id",
    "The journal entry: `formed` (with FD number and fiscal sign), `not_formed` (the id may be sent again), or `pending` (the answer was lost: POST /v1/recover settles it). 202 `in_progress` while a request with this id is queued or being formed: ask again, do not send it again. 404 when nothing was ever sent under this id.",
    "JournalEntry", "The journal entry.", [("400", "BadRequest"), ("401", "Unauthorized"), ("404", "NotFound"), ("500", "Internal")],
    params=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 128}, "description": "The receipt's idempotency id."}], tags=["receipts"])}
paths["/v1/receipts/{id}"]["get"]["responses"]["202"] = {"description": "A request with this id is queued or being formed now: its outcome is coming; do not send it again.", "content": {"application/json": {"schema": obj({"state": {"const": "in_progress"}, "id": S(), "message": S()})}}}
paths["/v1/receipts/{id}"]["get"]["responses"] = collections.OrderedDict(sorted(paths["/v1/receipts/{id}"]["get"]["responses"].items()))
paths["/v1/corrections"] = {"post": op("formCorrection", "Form a correction receipt", "The receipt JSON with `correction` (0x25 … 0x26). `id` as for receipts.", "ReceiptResult", "The formed document.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge")] + dev_errs,
    request=body("CorrectionReceipt", True), tags=["receipts"])}
paths["/v1/marks/check"] = {"post": op("checkMarks", "Check marking codes", "The verdict for each code, as `kkt mark check --device` gives it: the register's own check (0x91 with the FN, 0x92 with the OISM; the result is then deleted with 0x94, so nothing stays pending) and, when the service has a checker, its verdict: through the store's ТС ПИОТ when one is configured (`--tspiot-url`, `[marking] tspiot_url`; ГИС МТ is then not called directly, the Local Module is asked when the ТС ПИОТ gives no answer), else ГИС МТ's permissive mode (a token, or one obtained with the sign command) or the Local Module; the register's tag 2106 adds its reasons; the sold-codes store catches a code this legal entity sold. The same function gives the verdicts of a sale and of `kkt mark check`. Without any check source the verdict is `allowed` with `source: none` and a note (a refusal with rule check_required under `--mark-check required`). During ГИС МТ's emergency (§7: a 203, and 3 days after; or declared by hand) nothing is sent and the verdict says `emergency`. A verdict with `action: ask` carries a `confirmation` for the receipt item's `mark_confirmation`. Every verdict is kept in the store's evidence trail (`check_id`). Outside a receipt: the receipt checks its marked items again. Each code is one job in the register's queue, so receipts sent meanwhile are formed between the codes; a request may keep checking codes for 60 s at most (the codes not begun by then are not checked: 503 busy, nothing kept in the FN).", "MarkCheckResult", "One verdict per code.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge")] + dev_errs,
    request=body("MarkCheckRequest", True, example={"codes": ["0104607028393037215'Wt4q\u001d93dGVz", {"code": "0104607028393037215'Wt4q\u001d93dGVz", "planned_status": "piece_returned"}]}), tags=["marks"])}
paths["/v1/journal"] = {"get": op("journal", "The journal of fiscal documents", "Entries, newest first.", "JournalList", "The entries.", [("400", "BadRequest"), ("401", "Unauthorized"), ("500", "Internal")],
    params=[{"name": "pending", "in": "query", "required": False, "schema": {"type": "boolean", "default": False}, "description": "Only entries whose outcome is not known yet."},
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}, "description": "At most this many."}], tags=["journal"])}
paths["/v1/recover"] = {"post": op("recover", "Settle pending journal entries with the register", "For every pending entry the register's FN says whether its document was formed (its FD number and fiscal sign from the FN archive) or not. Also done when the service connects to the register.", "RecoverResult", "What was settled and what is still pending.", [("400", "BadRequest"), ("413", "TooLarge")] + dev_errs, request=body("EmptyRequest", False), tags=["journal"])}
paths["/v1/cash/in"] = {"post": op("cashIn", "Put cash into the drawer", "0xB3 with the money counters (0xB0) read before and after. Journaled like a fiscal document: with `id` done at most once; a lost answer is settled from the counters, never sent again blindly.", "CashResult", "Cash put in.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge")] + dev_errs, request=body("CashRequest", True, example={"amount": "1000.00", "id": "till-3-cash-0007"}), tags=["cash"])}
paths["/v1/cash/out"] = {"post": op("cashOut", "Take cash out of the drawer", "0xB4, as /v1/cash/in; more than the drawer holds is refused by the register (502 device, code 0x42, with its text).", "CashResult", "Cash taken out.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge")] + dev_errs, request=body("CashRequest", True, example={"amount": "500.00"}), tags=["cash"])}
paths["/v1/cash"] = {"get": op("cashTotals", "The money counters", "0xB0: cash in the drawer and electronic payments, roubles as decimal strings.", "MoneyTotals", "The counters.", dev_errs, tags=["cash"])}
paths["/v1/documents/{fd}"] = {"get": op("document", "A document from the FN archive", "0x30 and 0x3A (0x35/0x36 for a long one): the document as it was formed, with its items, totals, the fiscal sign as printed and whether the OFD confirmed it.", "StoredDocument", "The document.", [("400", "BadRequest")] + dev_errs,
    params=[{"name": "fd", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^([1-9][0-9]{0,9}|last)$"}, "description": "The document number, or `last`."}], tags=["documents"])}
paths["/v1/ofd"] = {"get": op("ofdStatus", "The exchange with the OFD", "0x50 and 0x32, with warnings when the first unsent document is older than 24 hours or the FN's 30-day limit nears.", "OfdStatus", "The exchange.", dev_errs, tags=["documents"])}
paths["/v1/reports/shift"] = {"get": op("shiftCounters", "The shift's counters", "0x20 and 0xB0: the register has no X-report command; this is the nearest (nothing printed or formed).", "ShiftCounters", "The counters.", dev_errs, tags=["shift"])}
paths["/v1/print"] = {"post": op("print", "Print on the register's printer", "Text (0x61 lines, or 0x64/0x65 buffered; 0x62 cut), a QR code (0x63) or a barcode (0x69). No fiscal document.", "PrintResult", "Printed.", [("400", "BadRequest"), ("409", "Conflict"), ("413", "TooLarge")] + dev_errs, request=body("PrintRequest", True, example={"text": "Спасибо за покупку!", "cut": True}), tags=["register"])}
paths["/openapi.json"] = {"get": {"operationId": "openapi", "summary": "This document", "security": [], "tags": ["service"], "responses": {"200": {"description": "The OpenAPI 3.1 description.", "content": {"application/json": {"schema": {"type": "object"}}}}}}}

doc = collections.OrderedDict()
doc["openapi"] = "3.1.0"
doc["info"] = collections.OrderedDict([("title", "kkt serve"), ("version", "1.0.0"),
    ("description", "A local HTTP/JSON service for a Russian fiscal cash register (Терминал-ФА / КИТ Онлайн-Ф, ФФД 1.2 with marked goods). One process (`kkt serve`) owns the register; POS clients in any language call it. JSON in, JSON out; money as decimal strings of roubles (\"45.50\"), never floats.\n\nThe register does one thing at a time: requests wait in a queue (at most the queue timeout, then 503 busy with nothing sent). Every fiscal document is journaled before it is sent; a receipt with an `id` is formed at most once.\n\nErrors are `{\"error\": {\"kind\", \"code\", \"message\", \"hint\"}}`: 400 bad input naming the field, 409 out of order or an id in progress, 502 the register refused (`code` is its error code), 503 busy or unreachable, 504 no answer in time, 500 never for input.\n\nSecurity: on loopback no token is needed unless the service was given one; listening beyond loopback requires one, sent as `Authorization: Bearer TOKEN`, and TLS (`--tls-cert`/`--tls-key`) unless `--insecure-lan`. Web pages cannot call the service: a request with an `Origin` header is refused (403) unless `--allow-origin` lists it, a `Host` other than the service's address, `localhost` or an `--allow-host` name is refused (403), and a body must be declared `Content-Type: application/json` (415)."),
    ("license", {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"})])
doc["servers"] = [{"url": "http://127.0.0.1:8567", "description": "The default address of `kkt serve`."}]
doc["security"] = [{"bearer": []}, {}]
doc["tags"] = [{"name": n} for n in ["register", "shift", "receipts", "cash", "documents", "marks", "journal", "service"]]
doc["paths"] = paths
doc["components"] = collections.OrderedDict([("schemas", sc), ("responses", responses),
    ("securitySchemes", {"bearer": {"type": "http", "scheme": "bearer", "description": "Required when the service has a token (always beyond loopback)."}})])
open(ROOT + '/protocol/openapi.json', 'w').write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
