#include "io/udp_relay.h"

#include <cstdio>
#include <mutex>
#include <stdexcept>

#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/net/gstnetaddressmeta.h>

#include "io/gst_util.h"

namespace spikevid::stream {

struct UdpRelay::Shared {
  std::mutex mutex;
  GSocketAddress* sender = nullptr;  // who sent last (a restarted caller comes from a new port)
  std::atomic<std::uint64_t> forward_in{0}, forward_out{0}, back_in{0}, back_out{0};
  ~Shared() {
    if (sender) g_object_unref(sender);
  }
};

namespace {

std::string netsim(const RelayConfig& c, const char* name) {
  char loss[32];
  std::snprintf(loss, sizeof loss, "%.6f", c.loss);
  return std::string(" ! netsim name=") + name + " min-delay=" + std::to_string(c.min_delay_ms) +
         " max-delay=" + std::to_string(c.max_delay_ms) +
         " delay-probability=" + (c.max_delay_ms > 0 ? "1.0" : "0.0") +
         " delay-distribution=uniform allow-reordering=false drop-probability=" + loss;
}

GstPadProbeReturn count_only(GstPad*, GstPadProbeInfo*, gpointer counter) {
  static_cast<std::atomic<std::uint64_t>*>(counter)->fetch_add(1);
  return GST_PAD_PROBE_OK;
}

// Forward path, before netsim: remembers the sender's address.
GstPadProbeReturn from_sender(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* s = static_cast<UdpRelay::Shared*>(data);
  s->forward_in.fetch_add(1);
  auto* meta = gst_buffer_get_net_address_meta(GST_PAD_PROBE_INFO_BUFFER(info));
  if (meta && meta->addr) {
    std::lock_guard lock(s->mutex);
    if (s->sender) g_object_unref(s->sender);
    s->sender = G_SOCKET_ADDRESS(g_object_ref(meta->addr));
  }
  return GST_PAD_PROBE_OK;
}

// Back path, into dynudpsink: addressed to the sender (it came from the receiver).
GstPadProbeReturn to_sender(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* s = static_cast<UdpRelay::Shared*>(data);
  GSocketAddress* to = nullptr;
  {
    std::lock_guard lock(s->mutex);
    if (s->sender) to = G_SOCKET_ADDRESS(g_object_ref(s->sender));
  }
  if (!to) return GST_PAD_PROBE_DROP;  // nobody has called yet
  GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  if (auto* meta = gst_buffer_get_net_address_meta(buf))
    gst_buffer_remove_meta(buf, reinterpret_cast<GstMeta*>(meta));
  gst_buffer_add_net_address_meta(buf, to);
  g_object_unref(to);
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  s->back_out.fetch_add(1);
  return GST_PAD_PROBE_OK;
}

// A UDP socket bound to HOST:PORT (HOST an IPv4 address; port 0: any).
GSocket* bound_socket(const std::string& host, int port, const std::string& name) {
  GInetAddress* address = g_inet_address_new_from_string(host.c_str());
  if (!address || g_inet_address_get_family(address) != G_SOCKET_FAMILY_IPV4) {
    if (address) g_object_unref(address);
    throw std::runtime_error(name + ": '" + host + "' is not an IPv4 address");
  }
  GError* error = nullptr;
  GSocket* socket =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  GSocketAddress* at = g_inet_socket_address_new(address, static_cast<guint16>(port));
  g_object_unref(address);
  if (socket) g_socket_bind(socket, at, FALSE, &error);
  g_object_unref(at);
  if (error) {
    const std::string why = error->message;
    g_error_free(error);
    if (socket) g_object_unref(socket);
    throw std::runtime_error(name + ": " + why);
  }
  return socket;
}

void probe(GstElement* pipeline, const char* element, const char* pad, GstPadProbeCallback cb,
           gpointer data) {
  GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), element);
  GstPad* p = gst_element_get_static_pad(e, pad);
  gst_pad_add_probe(p, GST_PAD_PROBE_TYPE_BUFFER, cb, data, nullptr);
  gst_object_unref(p);
  gst_object_unref(e);
}

}  // namespace

void parse_netsim(const std::string& spec, RelayConfig& c) {
  const auto bad = [&] {
    return std::invalid_argument("--netsim '" + spec +
                                 "': expected DELAY_MS,LOSS or MIN-MAX,LOSS, e.g. 15-25,0.01");
  };
  const auto comma = spec.find(',');
  if (comma == std::string::npos) throw bad();
  const auto delay = spec.substr(0, comma), loss = spec.substr(comma + 1);
  const auto dash = delay.find('-');
  const auto whole_int = [&](const std::string& t) {
    std::size_t used = 0;
    const int v = std::stoi(t, &used);
    if (used != t.size() || t.empty() || t[0] == '-' || t[0] == '+') throw bad();
    return v;
  };
  try {
    c.min_delay_ms = whole_int(delay.substr(0, dash));
    c.max_delay_ms = dash == std::string::npos ? c.min_delay_ms : whole_int(delay.substr(dash + 1));
    std::size_t used = 0;
    c.loss = std::stod(loss, &used);
    if (used != loss.size()) throw bad();
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (c.max_delay_ms < c.min_delay_ms || c.max_delay_ms > 10000 || !(c.loss >= 0 && c.loss <= 1))
    throw bad();
}

UdpRelay::UdpRelay(const RelayConfig& c) : config_(c), shared_(std::make_unique<Shared>()) {
  gst_init_once();
  if (!(c.loss >= 0 && c.loss <= 1) || c.min_delay_ms < 0 || c.max_delay_ms < c.min_delay_ms)
    throw std::runtime_error("relay: delay must be 0 <= min <= max ms and loss 0 to 1");
  const std::string name = "relay " + c.listen_host + ":" + std::to_string(c.listen_port);
  GstElement* e = gst_element_factory_make("netsim", nullptr);
  if (!e)
    throw std::runtime_error(name +
                             ": GStreamer's netsim element is missing (gstreamer1.0-plugins-bad)");
  gst_object_unref(e);
  // Two sockets, made here and shared: the front one receives from the
  // sender and sends the replies back to it (so it hears the port it
  // called); the back one sends on to to_host and receives its replies.
  sockets_[0] = bound_socket(c.listen_host, c.listen_port, name);
  try {
    sockets_[1] = bound_socket("0.0.0.0", 0, name);
  } catch (...) {
    g_object_unref(sockets_[0]);
    sockets_[0] = nullptr;
    throw;
  }
  try {
    pipeline_ = parse_pipeline(
        "udpsrc name=front mtu=65535 close-socket=false" + netsim(c, "forward") +
            " ! udpsink name=forward_out sync=false async=false close-socket=false host=" +
            c.to_host + " port=" + std::to_string(c.to_port) +
            " udpsrc name=back mtu=65535 close-socket=false" + netsim(c, "backward") +
            " ! dynudpsink name=back_out sync=false async=false close-socket=false",
        name);
    const auto set_socket = [&](const char* element, GSocket* socket) {
      GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline_), element);
      g_object_set(e, "socket", socket, nullptr);
      gst_object_unref(e);
    };
    set_socket("front", sockets_[0]);
    set_socket("back_out", sockets_[0]);
    set_socket("back", sockets_[1]);
    set_socket("forward_out", sockets_[1]);
    probe(pipeline_, "front", "src", from_sender, shared_.get());
    probe(pipeline_, "forward_out", "sink", count_only, &shared_->forward_out);
    probe(pipeline_, "back", "src", count_only, &shared_->back_in);
    probe(pipeline_, "back_out", "sink", to_sender, shared_.get());
    if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
        gst_element_get_state(pipeline_, nullptr, nullptr, 2 * GST_SECOND) ==
            GST_STATE_CHANGE_FAILURE) {
      const auto why = bus_error(pipeline_);
      throw std::runtime_error(name + ": " + (why.empty() ? "did not start" : why));
    }
  } catch (...) {
    if (pipeline_) {
      gst_element_set_state(pipeline_, GST_STATE_NULL);
      gst_object_unref(pipeline_);
      pipeline_ = nullptr;
    }
    for (auto*& socket : sockets_) {
      g_object_unref(socket);
      socket = nullptr;
    }
    throw;
  }
}

UdpRelay::~UdpRelay() {
  if (pipeline_) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
  }
  for (auto* socket : sockets_)
    if (socket) {
      g_socket_close(socket, nullptr);
      g_object_unref(socket);
    }
}

RelayCounts UdpRelay::counts() const {
  RelayCounts r;
  r.forward_in = shared_->forward_in.load();
  r.forward_out = shared_->forward_out.load();
  r.back_in = shared_->back_in.load();
  r.back_out = shared_->back_out.load();
  return r;
}

std::string UdpRelay::describe() const {
  char s[96];
  std::snprintf(s, sizeof s, "%d-%d ms, %.1f %% loss each way", config_.min_delay_ms,
                config_.max_delay_ms, 100 * config_.loss);
  return s;
}

}  // namespace spikevid::stream
