//! A pseudo-terminal for driving interactive prompts: the child gets the pty as stdin, stdout
//! and stderr; the test waits for text on the screen and types keys.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A child process on a pseudo-terminal.
pub struct Pty {
    child: Child,
    writer: File,
    screen: Arc<Mutex<String>>,
    /// How much of `screen` earlier `expect` calls consumed.
    seen: usize,
}

/// Keys.
pub const DOWN: &str = "\x1b[B";
pub const ENTER: &str = "\r";

impl Pty {
    /// Spawns `command` on a new 120x40 pty.
    pub fn spawn(mut command: Command) -> Self {
        let mut master: libc::c_int = -1;
        let mut slave: libc::c_int = -1;
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors into the out-pointers.
        let result = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(result, 0, "openpty failed");
        // SAFETY: both descriptors are fresh and owned here.
        let slave = unsafe { OwnedFd::from_raw_fd(slave) };
        let master = unsafe { File::from_raw_fd(master) };
        command
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        let child = command.spawn().expect("the binary starts");
        let screen = Arc::new(Mutex::new(String::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // EIO once the child and every slave descriptor are gone.
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        Self {
            child,
            writer: master,
            screen,
            seen: 0,
        }
    }

    /// Waits until `text` appears after what earlier calls matched.
    pub fn expect(&mut self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let screen = self.screen.lock().unwrap();
                if let Some(position) = screen[self.seen..].find(text) {
                    self.seen += position + text.len();
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "`{text}` did not appear within {timeout:?}; the screen:\n{}",
                    self.screen.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types keys.
    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Let the prompt read the keys before the next batch (raw-mode switches may drop
        // input typed ahead).
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Waits for the exit code; returns it with everything the screen showed.
    pub fn wait(mut self, timeout: Duration) -> (i32, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                let screen = self.screen.lock().unwrap().clone();
                return (status.code().unwrap_or(-1), screen);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the child did not exit within {timeout:?}; the screen:\n{}",
                    self.screen.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
