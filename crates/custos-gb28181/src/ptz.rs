//! PTZCmd (GB/T 28181 A.3): 8 bytes in hex, `A5 0F addr cmd pan tilt zoom|addr_hi checksum`.

/// One pan/tilt/zoom motion; speeds 0–255 (zoom 0–15). All zero = stop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Ptz {
    pub left: bool,
    pub right: bool,
    pub up: bool,
    pub down: bool,
    pub zoom_in: bool,
    pub zoom_out: bool,
    pub pan_speed: u8,
    pub tilt_speed: u8,
    pub zoom_speed: u8,
}

/// The hex `PTZCmd` for device address `addr` (usually 1).
pub fn ptz_cmd(p: Ptz, addr: u16) -> String {
    let mut c = 0u8;
    if p.right {
        c |= 0x01;
    }
    if p.left {
        c |= 0x02;
    }
    if p.down {
        c |= 0x04;
    }
    if p.up {
        c |= 0x08;
    }
    if p.zoom_in {
        c |= 0x10;
    }
    if p.zoom_out {
        c |= 0x20;
    }
    let b = [
        0xA5u8,
        0x0F,
        addr as u8,
        c,
        p.pan_speed,
        p.tilt_speed,
        ((p.zoom_speed & 0x0F) << 4) | ((addr >> 8) as u8 & 0x0F),
    ];
    let sum = b.iter().fold(0u8, |a, x| a.wrapping_add(*x));
    let mut s = hex::encode_upper(b);
    s.push_str(&format!("{sum:02X}"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I2 (GB/T 28181 interface, ptz): known commands.
    #[test]
    fn known_commands() {
        assert_eq!(ptz_cmd(Ptz::default(), 1), "A50F0100000000B5");
        let right = Ptz {
            right: true,
            pan_speed: 0x80,
            ..Default::default()
        };
        assert_eq!(ptz_cmd(right, 1), "A50F010180000036");
    }
}
