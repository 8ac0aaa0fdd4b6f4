# Сообщения kkt по-русски (--lang ru, KKT_LANG=ru или русская локаль системы).
# Каждое сообщение en.ftl есть и здесь (это проверяет тест). lib-… — подсказки драйвера.

label-hint = подсказка
hint-see-help = см. `kkt --help` или `kkt КОМАНДА --help` с параметрами команды
hint-log-file = укажите файл, в который kkt может писать: --log-file ПУТЬ
hint-fix-config = исправьте или удалите файл настроек (`kkt config path` покажет, где он, `kkt config example` — все ключи)
hint-fix-option = исправьте { $option }
hint-receipt-help = см. `kkt receipt --help`
hint-device = укажите ККТ: --device URI (tcp://ХОСТ:ПОРТ, serial:///dev/ttyUSB0, COM3, emulator), KKT_DEVICE или `device` в файле настроек (`kkt config init` создаст пример)
hint-ports = проверьте, что этому пользователю доступны последовательные порты; `kkt --device COM3 status` работает и без списка
hint-emulator-help = см. `kkt emulator --help`
hint-decode = передайте кадры в hex (`kkt decode B6 29 00 01 01 8C EF`), журнал на stdin или --file ЖУРНАЛ
hint-decode-frame = проверьте, что кадр скопирован целиком; кадр начинается с байтов B6 29
hint-raw = укажите код команды и её данные в hex: `kkt raw 0x01`, `kkt raw 0x30 01000000`
hint-raw-yes = добавьте --yes, чтобы отправить её (сначала она записывается в журнал, чтобы потерянный ответ можно было выяснить командой `kkt recover`)
hint-demo = запустите `kkt demo` без --device (встроенная виртуальная ККТ) или запустите эмулятор `kkt emulator --listen 127.0.0.1:7778` и `kkt demo --device tcp://127.0.0.1:7778`
hint-register-first = сначала зарегистрируйте её: `kkt settings oism set …` и `kkt settings keys-host set …` (маркированные товары), затем `kkt register ФАЙЛ` (см. README); `kkt status` покажет фазу ФН
hint-datetime-format = укажите `now` или время вида 2026-03-02T10:30
hint-datetime-force = установите верное время (`kkt datetime set now` на компьютере с верными часами); --force — только если неверно датирован сам последний документ ФН
hint-config-path = укажите --config ПУТЬ (или KKT_CONFIG)
hint-config-exists = отредактируйте этот файл или укажите другой: --config ПУТЬ; `kkt config example` выведет пример

error-no-device = не указана ККТ
error-config-timeout-zero = timeout = 0 в файле настроек не оставит ККТ времени на ответ
error-datetime-format = дата и время { $value }: ожидается `now` или ГГГГ-ММ-ДДTЧЧ:ММ
error-datetime-before-last = { $value } раньше последнего документа ФН (ФД { $fd } от { $last }): до этого времени ККТ отказывала бы в каждом документе (ошибка 0x07)
error-not-registered = ККТ ещё не зарегистрирована (фаза ФН: { $phase }): открыть смену нельзя

cancel-nothing = на ККТ нет открытого документа: отменять нечего
cancel-done = открытый документ ({ $document }) отменён

decode-no-hex = во входных данных нет байтов в hex
decode-no-frame = во входных данных нет кадра B6 29

demo-intro = kkt demo на виртуальной ККТ ({ $uri }): ни устройство, ни сеть не нужны
demo-refused = kkt demo формирует фискальные документы и закрывает открытую смену, поэтому работает только на виртуальной ККТ; { $uri } ответила на запрос служебных параметров (0xA2): { $answer } — это не виртуальная ККТ
demo-register = ККТ { $serial } · ФН { $fn_number } · последний ФД { $fd }
demo-closing-open-shift = смена { $number } уже открыта: сначала закрываю её
demo-shift-opened = смена { $number } открыта (ФД { $fd }, ФП { $fp })
demo-selling = продаю 3 позиции, 2 из них маркированные: каждый КМ сначала проверяют ФН и ОИСМ…
demo-shift-closed = смена { $number } закрыта (ФД { $fd }, ФП { $fp })

config-no-dir = в этой системе нет папки настроек
config-exists = есть
config-missing = ещё нет: `kkt config init` создаст пример
config-exists-refused = { $path } уже есть: не перезаписан
config-written = пример настроек записан в { $path } (все ключи закомментированы: уберите «# », чтобы включить ключ)

raw-needs-yes = { $command } формирует фискальный документ или меняет настройки ККТ
raw-too-long = { $len } байт данных: кадр вмещает не более { $max }

net-mode = адрес
net-ip = IP-адрес
net-mask = маска подсети
net-gateway = шлюз
net-dns = DNS
net-dns-dhcp = по DHCP
net-dns-static = внутренний список DNS-серверов ККТ (при статическом адресе)
net-in-use = сейчас используется
net-set-done = сетевые настройки записаны

print-model-unknown = модель принтера не сообщается
print-retract-in = отчёты смены забираются внутрь
print-retract-out = отчёты смены выталкиваются наружу
print-receipt-text = текст после QR-кода
print-set-done = настройки печати записаны
control-set-done = параметры управления записаны (новый интерфейс начнёт работать, когда ККТ их применит)

fn-errors-empty = буфер ошибок ФН пуст
fn-errors-head = последние ошибки ФН, { $bytes } байт (формат в v01.05 не описан):

progress-waiting = жду ответа ККТ: { $what }, { $secs } с из { $limit } с
progress-waiting-retry = жду ответа ККТ: { $what }, { $secs } с из { $limit } с (попытка { $attempt })
progress-key-update = открытие смены (ККТ может обновлять ключи проверки КМ, ~15 с)
progress-retrying = kkt: { $what }: попытка { $attempt } не удалась ({ $reason }); спрашиваю снова
progress-reconciling = kkt: ответ на { $what } потерян ({ $cause }); спрашиваю ККТ, что произошло…
progress-oism-unreachable = kkt: ОИСМ не ответила: продолжаю с проверкой КМ в ФН

interrupt-first = kkt: остановлюсь после текущего обмена (повторное Ctrl-C прервёт сразу)…
interrupt-abort = kkt: прервано
interrupt-state = Состояние ККТ: { $state }.
interrupt-cancelled = Документ, оставленный открытым этим запуском, отменён.
interrupt-next = Дальше: { $next }
interrupt-state-unknown = состояние прочитать не удалось
interrupt-no-document = открытого документа нет

word-shift-open = смена открыта
word-shift-closed = смена закрыта
word-none = нет
word-undocumented = не описано в документации
word-clock = часы
word-queue = очередь
word-gateway = шлюз

status-register = ККТ
status-printer = принтер
status-fn = ФН
status-last-fd = последний ФД
status-warnings = предупреждения ФН
status-shift = смена
status-shift-open = открыта, номер { $number }, чеков { $receipts }
status-shift-closed = закрыта (последняя смена { $number })
status-document = открытый документ
status-marking = маркировка (0x90)
status-marking-none = не сообщается (ККТ без маркированных товаров)
status-kept-results = сохранено результатов проверки
status-notification-codes = КМ в уведомлении о реализации
status-notification-storage = область уведомлений
status-notification-queue = неподтверждённых уведомлений
status-allowed-commands = разрешённые команды ФН по КМ
status-oism-queue = очередь ОИСМ
status-current-notification = передаётся уведомление
status-storage-used = заполнено
status-ofd = очередь ОФД
status-ofd-empty = пуста: все документы переданы в ОФД
status-ofd-queue = не передано документов: { $count }, первый ФД { $first } от { $since }
status-fn-resources = ресурс ФН
status-resources = осталось около { $documents } документов, свободно { $kilobytes } КБ для 30-дневного хранения
status-resources-notifications = область уведомлений заполнена на { $percent } %

info-model = модель
info-serial = заводской номер
info-firmware = прошивка
info-config = конфигурация
info-fn = ФН
info-fn-firmware = прошивка ФН
info-fn-format = формат ФН
info-fn-format-value = { $used } (поддерживает до { $supported })
info-fn-validity = срок действия ФН
info-fn-validity-value = до { $until } · перерегистраций сделано { $done }, осталось { $left }
info-registration-number = РН ККТ
info-not-registered = не зарегистрирована
info-inn = ИНН пользователя
info-modes = режимы работы
info-taxation = системы налогообложения
info-agents = признаки агента
info-line-width = строка печати
info-line-width-value = { $chars } символов
info-tcp-ip = TCP/IP
info-control = управление
info-printer = печать
info-service = служебные параметры

ru-device = { $command } отклонена: ошибка { $code }: { $text }
ru-input = неверные данные: { $field }: { $detail }
ru-sequence = { $command } не по порядку (ККТ ответит ошибкой { $code })
ru-link = { $command } не выполнена: { $detail }
ru-connect = нет связи: { $detail }
ru-protocol = { $command } не выполнена: { $detail }
ru-not-formed = { $command } не выполнена: ответ потерян, и ККТ не сформировала документ (последний ФД { $fd })
ru-uri = адрес ККТ { $uri }: { $detail }
ru-interrupted = прервано до отправки: { $command }
ru-hint-link = проверьте кабель или сеть и что ККТ включена; команду можно повторить
ru-hint-not-a-register = по этому адресу не ККТ, а другой сервер или устройство: проверьте хост, порт или последовательный порт (`kkt ports` покажет порты)
ru-hint-protocol = помехи на линии или с ККТ работает другая программа; повторите
ru-hint-not-formed = ничего не сформировано: можно повторить
ru-hint-interrupted = больше ничего не отправлено: `kkt status` покажет состояние ККТ

lib-document-open = на ККТ открыт документ (`kkt status` покажет какой): завершите его или, если с ККТ не работает другая программа, отмените командой `kkt cancel`
lib-open-shift = сначала откройте смену: `kkt shift open`
lib-close-shift = сначала закройте смену: `kkt shift close`
lib-shift-steps = `kkt shift open` и `kkt shift close` выполняют шаги отчёта смены по порядку
lib-open-receipt = сначала откройте чек: `kkt receipt ФАЙЛ` открывает, заполняет и закрывает его
lib-receipt-steps = `kkt receipt ФАЙЛ` выполняет шаги чека по порядку
lib-mark-steps = `kkt receipt ФАЙЛ` проверяет и сохраняет каждый КМ по порядку; `kkt status` покажет состояние маркировки
lib-report-steps = `kkt report settlement`, `kkt register ФАЙЛ` и `kkt fn close --yes` выполняют шаги отчёта по порядку
lib-sent-once = данные уже переданы: чтобы начать чек заново, отмените его командой `kkt cancel`
lib-unknown_outcome = не повторяйте, пока не выяснено: `kkt recover` спросит ККТ, затем `kkt journal`
lib-id_reused = новому документу нужен новый id; тот же id возвращает первый документ
lib-pending = подключитесь к ККТ (или выполните `kkt recover`), затем повторите с тем же id: если документ сформирован, он и вернётся
lib-journal = проверьте диск и файл журнала (--journal ПУТЬ, KKT_JOURNAL); без журнала ничего не отправляется
