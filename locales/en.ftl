# kkt's messages in English (the default). Every message here is in ru.ftl too (a test checks).
# Placeables: { $name }. Keep hints naming kkt's own commands, never opcodes.

label-hint = hint
hint-see-help = see `kkt --help`, or `kkt COMMAND --help` for the command's options
hint-log-file = give a file kkt may write: --log-file PATH
hint-fix-config = fix or remove the config file (`kkt config path` prints where it is, `kkt config example` shows every key)
hint-fix-option = fix { $option }
hint-receipt-help = see `kkt receipt --help`
hint-device = give the register with --device URI (tcp://HOST:PORT, serial:///dev/ttyUSB0, COM3, emulator), KKT_DEVICE, or `device` in the config file (`kkt config init` writes an example)
hint-ports = check that this user may read the serial devices; `kkt --device COM3 status` works without the list
hint-emulator-help = see `kkt emulator --help`
hint-decode = give the frames as hex (`kkt decode B6 29 00 01 01 8C EF`), a log on stdin, or --file LOG
hint-decode-frame = check that the whole frame was copied; a frame starts with the bytes B6 29
hint-raw = give the command code and its DATA in hex: `kkt raw 0x01`, `kkt raw 0x30 01000000`
hint-raw-yes = add --yes to send it (it is written to the journal first, so that a lost answer can be settled with `kkt recover`)
hint-demo = run `kkt demo` alone (the built-in virtual register), or start one with `kkt emulator --listen 127.0.0.1:7778` and run `kkt demo --device tcp://127.0.0.1:7778`
hint-register-first = register it first: `kkt settings oism set …` and `kkt settings keys-host set …` (marked goods), then `kkt register FILE` (see README); `kkt status` shows the FN's phase
hint-datetime-format = give `now` or a time like 2026-03-02T10:30
hint-datetime-force = set the right time (`kkt datetime set now` on a computer whose clock is right); add --force only if the FN's last document itself is dated wrongly
hint-config-path = give --config PATH (or set KKT_CONFIG)
hint-config-exists = edit that file, or give another one with --config PATH; `kkt config example` prints the example

error-no-device = no register given
error-config-timeout-zero = timeout = 0 in the config file would give the register no time to answer
error-datetime-format = datetime { $value }: expected `now` or YYYY-MM-DDTHH:MM
error-datetime-before-last = { $value } is before the FN's last document (FD { $fd } at { $last }): the register would refuse every document until then (error 0x07)
error-not-registered = the register is not registered yet (FN phase: { $phase }): it cannot open a shift

cancel-nothing = no document is open on the register: nothing to cancel
cancel-done = the open document ({ $document }) was cancelled

decode-no-hex = no hex bytes in the input
decode-no-frame = no B6 29 frame found in the input

demo-intro = kkt demo on the virtual register ({ $uri }): no device and no network needed
demo-refused = kkt demo forms fiscal documents and closes an open shift, so it runs only on a virtual register; { $uri } answered the service query (0xA2) with { $answer }, which is not the virtual register
demo-register = register { $serial } · FN { $fn_number } · last FD { $fd }
demo-closing-open-shift = a shift ({ $number }) is already open: closing it first
demo-shift-opened = shift { $number } opened (FD { $fd }, fiscal sign { $fp })
demo-selling = selling 3 items, 2 of them marked: the FN and the OISM check each code first…
demo-shift-closed = shift { $number } closed (FD { $fd }, fiscal sign { $fp })

config-no-dir = this system has no config folder
config-exists = exists
config-missing = not there yet: `kkt config init` writes an example
config-exists-refused = { $path } exists: not overwritten
config-written = wrote an example config to { $path } (every key commented out: remove "# " to use one)

raw-needs-yes = { $command } forms a fiscal document or changes the register's settings
raw-too-long = { $len } bytes of DATA: a frame holds at most { $max }

net-mode = address
net-ip = IP address
net-mask = subnet mask
net-gateway = gateway
net-dns = DNS
net-dns-dhcp = from DHCP
net-dns-static = the register's own list of DNS servers (with a static address)
net-in-use = in use now
net-set-done = network settings written

print-model-unknown = printer model not reported
print-retract-in = shift reports pulled in
print-retract-out = shift reports pushed out
print-receipt-text = text after the QR code
print-set-done = print settings written
control-set-done = control settings written (a new interface takes effect when the register applies it)

fn-errors-empty = the FN's error buffer is empty
fn-errors-head = the FN's last errors, { $bytes } bytes (v01.05 does not describe their layout):

progress-waiting = waiting for the register: { $what }, { $secs } s of { $limit } s
progress-waiting-retry = waiting for the register: { $what }, { $secs } s of { $limit } s (attempt { $attempt })
progress-key-update = opening the shift (the register may be updating the marking-code keys, ~15 s)
progress-retrying = kkt: { $what }: attempt { $attempt } failed ({ $reason }); asking again
progress-reconciling = kkt: the answer to { $what } was lost ({ $cause }); asking the register what happened…
progress-oism-unreachable = kkt: the OISM did not answer: going on with the FN's own check of the code

interrupt-first = kkt: stopping after the exchange in flight (Ctrl-C again aborts at once)…
interrupt-abort = kkt: aborted
interrupt-state = The register now: { $state }.
interrupt-cancelled = The document this run had left open was cancelled.
interrupt-next = Next: { $next }
interrupt-state-unknown = its state could not be read
interrupt-no-document = no document open

word-shift-open = shift open
word-shift-closed = shift closed
word-none = none
word-undocumented = undocumented
word-clock = clock
word-queue = queue
word-gateway = gateway

status-register = register
status-printer = printer
status-fn = FN
status-last-fd = last FD
status-warnings = FN warnings
status-shift = shift
status-shift-open = open, number { $number }, { $receipts } receipts
status-shift-closed = closed (last shift { $number })
status-document = document
status-marking = marking
status-marking-none = not reported (a register without marked goods)
status-kept-results = check results kept
status-notification-codes = codes in the sale notification
status-notification-storage = notification storage
status-notification-queue = notifications not confirmed
status-allowed-commands = FN marking commands allowed
status-oism-queue = OISM queue
status-current-notification = sending notification
status-storage-used = storage used
status-ofd = OFD queue
status-ofd-empty = empty: every document reached the OFD
status-ofd-queue = { $count } documents not sent, the first FD { $first } of { $since }
status-fn-resources = FN resources
status-resources = about { $documents } documents left, { $kilobytes } KB free for 30-day storage
status-resources-notifications = notification storage { $percent } % used

info-model = model
info-serial = serial number
info-firmware = firmware
info-config = configuration
info-fn = FN
info-fn-firmware = FN firmware
info-fn-format = FN format
info-fn-format-value = { $used } (supports up to { $supported })
info-fn-validity = FN valid until
info-fn-validity-value = { $until } · { $done } registrations done, { $left } left
info-registration-number = registration number
info-not-registered = not registered
info-inn = user INN
info-modes = operating modes
info-taxation = taxation systems
info-agents = agent types
info-line-width = printed line
info-line-width-value = { $chars } characters
info-tcp-ip = TCP/IP
info-control = control
info-printer = printing
info-service = service parameters

ru-device = { $command } refused: error { $code }: { $text }
ru-input = invalid input: { $field }: { $detail }
ru-sequence = { $command } is out of order (the register answers error { $code })
ru-link = { $command } failed: { $detail }
ru-connect = cannot connect: { $detail }
ru-protocol = { $command } failed: { $detail }
ru-not-formed = { $command } was not executed: the answer was lost and the register formed no document (last FD { $fd })
ru-uri = device address { $uri }: { $detail }
ru-interrupted = interrupted before { $command } was sent
ru-hint-link = check the cable or network and that the register is on; the command can be repeated
ru-hint-not-a-register = the device address leads to another kind of server or device: check the host, the port or the serial port (`kkt ports` lists serial ports)
ru-hint-protocol = the line is noisy or another program talks to the register; retry
ru-hint-not-formed = nothing was formed: it is safe to try again
ru-hint-interrupted = nothing more was sent: `kkt status` shows the register's state
