#pragma once
// Raw POSIX sockets for black-box tests that must misbehave or watch the wire (a client that
// leaves without reading, a slow header, an answer that must NOT have arrived yet), where
// testutil::HttpClient would do the polite thing. Header-only; shared by tests/api,
// tests/queries and tests/abuse.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::testutil {

// A connected blocking TCP socket to 127.0.0.1:port (TCP_NODELAY), or -1.
inline int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Sends all of `data`; false when the peer is gone.
inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until the peer closes or `timeout` passes; returns what was read. *closed tells which.
inline std::string ReadUntilClosed(int fd, std::chrono::milliseconds timeout, bool* closed) {
  std::string out;
  *closed = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[16384];
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return out;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return out;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = true;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

// True when something (bytes or the peer's close) can be read from fd within `timeout`.
inline bool Readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

// Reads one HTTP answer's status code: waits up to `timeout` for the status line
// ("HTTP/1.1 504 ..."); 0 when none came.
inline unsigned ReadStatus(int fd, std::chrono::milliseconds timeout) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (got.find("\r\n") == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !Readable(fd, left)) return 0;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return 0;
    got.append(buf, static_cast<size_t>(n));
  }
  if (got.size() < 12 || got.compare(0, 5, "HTTP/") != 0) return 0;
  return static_cast<unsigned>(std::stoul(got.substr(9, 3)));
}

// Sends one POST (JSON body, `Authorization: Bearer key`) on a fresh connection and returns the
// socket without reading the answer, or -1.
inline int SendWithoutReading(uint16_t port, const std::string& path, const std::string& body,
                              std::string_view bearer_key) {
  const int fd = Connect(port);
  if (fd < 0) return -1;
  const std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                          std::string(bearer_key) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  if (!SendAll(fd, req)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace cairn::testutil
