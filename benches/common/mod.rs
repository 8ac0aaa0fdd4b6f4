//! Inputs shared by the codec benchmarks (benches/codec.rs, benches/alloc.rs).

use kkt::protocol::frame;
use kkt::protocol::tlv::TlvWriter;
use kkt::protocol::types::Decimal;

/// 128 characters of Cyrillic item name.
pub fn item_name() -> String {
    let base = "Молоко питьевое ультрапастеризованное \"Домик в деревне\" 3,2% жирности, ПЭТ-бутылка 1,4 л; ";
    let s: String = base.chars().cycle().take(128).collect();
    assert_eq!(s.chars().count(), 128);
    s
}

/// DATA of a 0x97 «send marked item» request making a frame of exactly 1000 bytes: item name
/// (128 Cyrillic characters), price, quantity, VAT, the DataMatrix code of seed 004's example
/// (0x1D group separators), marking tags, supplier data and 1260 industry requisites
/// (1262 BYTE, 1263/1264/1265 strings) filling the rest.
pub fn data_0x97() -> Vec<u8> {
    const DATA_LEN: usize = 1000 - frame::OVERHEAD - 1;
    let km = b"010464007801637221gDDJ2VMOqvdNG\x1d91FFD0\x1d92dGVzdIjNx7Hb93pmLsV+niIDiJWV8ZFAjQdF9b2BO/o=";
    let mut w = TlvWriter::new();
    w.string(1030, &item_name()).unwrap();
    w.vln(1079, 15_000).unwrap();
    w.fvln(1023, Decimal::new(1, 0)).unwrap();
    w.byte(1199, 1).unwrap();
    w.byte(1214, 4).unwrap();
    w.byte(1212, 33).unwrap();
    w.raw(2000, km).unwrap();
    w.byte(2100, 0).unwrap();
    w.byte(2110, 1).unwrap();
    w.byte(2102, 0).unwrap();
    w.byte(2108, 0).unwrap();
    w.string(1230, "643").unwrap();
    w.string(1231, "10702070/201123/3012345").unwrap();
    w.string(1191, "Партия 2023-11-20, склад №3").unwrap();
    w.string(1225, "ООО \"Молочный комбинат\"").unwrap();
    w.string(1226, "7740000076  ").unwrap();
    w.string(1171, "+74951234567").unwrap();
    let values = [
        "Сведения о разрешительном режиме: ветеринарный сертификат ",
        "id1=00000000-0000-0000-0000-000000000000&id2=2&id3=34567&",
        "mode=1&vsd=5b2f3a8e-9c11-4d8a-a1f0-6e2d4c7b9a01&srv=mercury&",
    ];
    let (date, number) = ("21.11.2023", "1556/23");
    let overhead = 4 + (4 + 1) + (4 + date.len()) + (4 + number.len()) + 4;
    for i in 0.. {
        let left = DATA_LEN - w.as_bytes().len();
        if left == 0 {
            break;
        }
        let room = left.checked_sub(overhead).expect("room for one more 1260");
        // Leave either nothing or enough for one more requisite.
        let len = if room <= 256 { room } else { room.min(200) };
        let value: String = values[i % values.len()].chars().cycle().take(len).collect();
        w.stlv(1260, |s| {
            s.byte(1262, 30)?;
            s.string(1263, date)?;
            s.string(1264, number)?;
            s.string(1265, &value)?;
            Ok(())
        })
        .unwrap();
    }
    let data = w.into_bytes();
    assert_eq!(data.len(), DATA_LEN);
    data
}
