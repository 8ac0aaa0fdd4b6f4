//! Opening a register by its device URI: TCP, a serial line, or the virtual register in this
//! process. This sits above the transports, the driver and the emulator (it is the one place
//! that knows all three), so that none of them reaches for another.
//!
//! ```
//! # fn main() -> Result<(), kkt::Error> {
//! let mut kkt = kkt::Kkt::connect("emulator")?; // or "tcp://192.168.1.50:7778", "/dev/ttyUSB0", "COM3"
//! println!("{}", kkt.call(&kkt::commands::info::GetModel)?.text);
//! # Ok(()) }
//! ```

#[cfg(feature = "tokio")]
use crate::driver::AsyncKkt;
use crate::driver::{Kkt, Options};
use crate::error::Error;
#[cfg(feature = "tokio")]
use crate::transport::AsyncTransport;
use crate::transport::{DeviceUri, LinkError, Transport};

/// The feature a URI needs and this build lacks, as a link error (nothing was sent).
#[allow(dead_code)] // unused when every transport is compiled in
fn missing(uri: &DeviceUri, feature: &str) -> LinkError {
    LinkError::Connect {
        peer: uri.to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("this build of kkt has no `{feature}` feature (enable it in Cargo.toml to open {uri})"),
        ),
    }
}

/// Opens a blocking transport for `uri`.
pub fn open(uri: &DeviceUri) -> Result<Box<dyn Transport>, LinkError> {
    match uri {
        #[cfg(feature = "tcp")]
        DeviceUri::Tcp { host, port, mode } => {
            Ok(Box::new(crate::transport::TcpTransport::new(host.clone(), *port, *mode)))
        }
        #[cfg(feature = "serial")]
        DeviceUri::Serial { path, config } => {
            Ok(Box::new(crate::transport::SerialTransport::open(path, config.clone())?))
        }
        #[cfg(feature = "emulator")]
        DeviceUri::Emulator { state } => Ok(Box::new(crate::emulator::open(state.as_deref())?)),
        #[allow(unreachable_patterns)]
        other => Err(missing(other, feature_of(other))),
    }
}

/// Opens an async transport for `uri`. Serial ports need a tokio runtime.
#[cfg(feature = "tokio")]
pub fn open_async(uri: &DeviceUri) -> Result<Box<dyn AsyncTransport>, LinkError> {
    match uri {
        #[cfg(feature = "tcp")]
        DeviceUri::Tcp { host, port, mode } => {
            Ok(Box::new(crate::transport::AsyncTcpTransport::new(host.clone(), *port, *mode)))
        }
        #[cfg(feature = "serial")]
        DeviceUri::Serial { path, config } => Ok(Box::new(crate::transport::AsyncSerialTransport::open(path, config)?)),
        #[cfg(feature = "emulator")]
        DeviceUri::Emulator { state } => Ok(Box::new(crate::emulator::open(state.as_deref())?)),
        #[allow(unreachable_patterns)]
        other => Err(missing(other, feature_of(other))),
    }
}

#[allow(dead_code)] // unused when every transport is compiled in
fn feature_of(uri: &DeviceUri) -> &'static str {
    match uri {
        DeviceUri::Tcp { .. } => "tcp",
        DeviceUri::Serial { .. } => "serial",
        DeviceUri::Emulator { .. } => "emulator",
    }
}

fn parse(uri: &str) -> Result<DeviceUri, Error> {
    Ok(uri.parse::<DeviceUri>()?)
}

impl Kkt {
    /// Connects to the register at `uri` (`tcp://HOST:PORT`, `serial:///dev/ttyUSB0?baud=115200`,
    /// `COM3`, `emulator`) with default [`Options`], and reads its state.
    pub fn connect(uri: &str) -> Result<Kkt, Error> {
        Self::connect_with(uri, Options::default())
    }

    /// [`Kkt::connect`] with options.
    pub fn connect_with(uri: &str, opts: Options) -> Result<Kkt, Error> {
        let t = open(&parse(uri)?).map_err(Error::Connect)?;
        Kkt::with_boxed(t, opts)
    }
}

#[cfg(feature = "tokio")]
impl AsyncKkt {
    /// Connects to the register at `uri` with default [`Options`], and reads its state.
    pub async fn connect(uri: &str) -> Result<AsyncKkt, Error> {
        Self::connect_with(uri, Options::default()).await
    }

    /// [`AsyncKkt::connect`] with options.
    pub async fn connect_with(uri: &str, opts: Options) -> Result<AsyncKkt, Error> {
        let t = open_async(&parse(uri)?).map_err(Error::Connect)?;
        AsyncKkt::with_boxed(t, opts).await
    }
}
