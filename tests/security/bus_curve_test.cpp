// The message bus authenticates its peers (issue 17, point 4), on both backends, with real
// ZeroMQ sockets over loopback TCP: a relay on tcp:// speaks CURVE and lets in only clients
// whose key it allows, so a peer without the keys receives no event and no message; and a
// peer with the keys settles (acks, nacks, releases) only the messages leased to it.
#include <zmq.h>

#include <zmq.hpp>

#include "banyan/errors.hpp"
#include "messaging_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;
using messaging::CurveKeys;
using messaging::MessageBus;

// A bare ZeroMQ peer, as an intruder or a hand-written client would open one.
class RawPeer {
 public:
  RawPeer(zmq::context_t& ctx, zmq::socket_type type, const std::string& endpoint,
          const std::optional<std::pair<std::string, std::string>>& client_keys = std::nullopt,
          const std::string& server_public = {})
      : socket_(ctx, type) {
    socket_.set(zmq::sockopt::linger, 0);
    if (type == zmq::socket_type::sub) socket_.set(zmq::sockopt::subscribe, "");
    if (client_keys) {
      socket_.set(zmq::sockopt::curve_serverkey, server_public);
      socket_.set(zmq::sockopt::curve_publickey, client_keys->first);
      socket_.set(zmq::sockopt::curve_secretkey, client_keys->second);
    }
    socket_.connect(endpoint);
  }
  void send(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i)
      socket_.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::dontwait);
  }
  // The next whole message within `wait`, or nothing.
  std::vector<std::string> receive(std::chrono::milliseconds wait) {
    zmq::pollitem_t item{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, wait) <= 0) return {};
    std::vector<std::string> frames;
    for (;;) {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
      frames.push_back(part.to_string());
      if (!part.more()) break;
    }
    return frames;
  }

 private:
  zmq::socket_t socket_;
};

std::pair<std::string, std::string> fresh_keypair() {
  char pub[41] = {}, sec[41] = {};
  EXPECT_EQ(zmq_curve_keypair(pub, sec), 0);
  return {pub, sec};
}

class BusCurveTest : public MessagingTest {
 protected:
  void SetUp() override {
    MessagingTest::SetUp();
    keys_ = CurveKeys::parse(CurveKeys::generate());
  }
  MessageBus& relay(messaging::QueueSpec spec) {
    MessageBus& r = bus({.node = "relay",
                         .work_endpoint = "tcp://127.0.0.1:*",
                         .publish_endpoint = "tcp://127.0.0.1:*",
                         .curve = keys_});
    r.declare_queue(spec);
    r.start();
    EXPECT_TRUE(eventually([&] { return r.metrics().relay_holder; }));
    return r;
  }
  // What a process of the deployment holds: the shared file, without the server secret.
  CurveKeys client_keys() const {
    CurveKeys k = keys_;
    k.server_secret.clear();
    return k;
  }
  std::pair<std::string, std::string> allowed_pair() const {
    return {keys_.client_public, keys_.client_secret};
  }

  CurveKeys keys_;
  zmq::context_t ctx_{1};
};
BANYAN_ON_BOTH_BACKENDS(BusCurveTest);

TEST_P(BusCurveTest, ARelayOnTcpWithoutKeysIsRefusedAtStart) {
  MessageBus& b = bus({.work_endpoint = "tcp://127.0.0.1:*", .curve = CurveKeys{}});
  try {
    b.start();
    ADD_FAILURE() << "a relay on tcp:// started without CURVE keys";
  } catch (const Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("CURVE"), std::string::npos) << e.what();
  }
}

TEST_P(BusCurveTest, APeerWithoutTheKeysGetsNoEventAndNoMessage) {
  MessageBus& r = relay(queue("remote", {"contact.created"}));
  // Intruders: no keys at all, and a CURVE pair of their own that the relay does not allow.
  RawPeer plain_sub(ctx_, zmq::socket_type::sub, r.publish_endpoint());
  RawPeer plain_dealer(ctx_, zmq::socket_type::dealer, r.work_endpoint());
  const auto stranger = fresh_keypair();
  RawPeer stranger_sub(ctx_, zmq::socket_type::sub, r.publish_endpoint(), stranger,
                       keys_.server_public);
  RawPeer stranger_dealer(ctx_, zmq::socket_type::dealer, r.work_endpoint(), stranger,
                          keys_.server_public);
  for (RawPeer* p : {&plain_dealer, &stranger_dealer})
    p->send({"HELLO", "remote", "intruder", "100"});
  // A bus of the deployment without keys cannot even connect; one with them is served.
  MessageBus& keyless = bus({.node = "keyless", .relay = false, .curve = CurveKeys{}});
  Seen keyless_seen;
  keyless.consume("remote", [&](const messaging::Message& m) { keyless_seen.add(m); });
  keyless.start();
  MessageBus& worker = bus({.node = "worker", .relay = false, .curve = client_keys()});
  Seen seen;
  std::atomic<int> published{0};
  worker.consume("remote", [&](const messaging::Message& m) { seen.add(m); });
  worker.subscribe("*", [&](const store::DomainEvent&) { published.fetch_add(1); });
  worker.start();
  std::this_thread::sleep_for(500ms);  // the subscriber connects
  for (int i = 0; i < 3; ++i) add_contact("Remote" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return seen.size() == 3 && published.load() == 3; }));
  EXPECT_TRUE(eventually([&] { return r.metrics().acked == 3; }));
  for (RawPeer* p : {&plain_sub, &plain_dealer, &stranger_sub, &stranger_dealer})
    EXPECT_TRUE(p->receive(300ms).empty()) << "an unauthenticated peer received a frame";
  EXPECT_EQ(keyless_seen.size(), 0u);
}

TEST_P(BusCurveTest, APeerWithTheKeysCannotSettleAnotherConsumersMessage) {
  auto spec = queue("q", {"contact.created"});
  MessageBus& r = relay(spec);
  RawPeer holder(ctx_, zmq::socket_type::dealer, r.work_endpoint(), allowed_pair(),
                 keys_.server_public);
  holder.send({"HELLO", "q", "holder", "10"});
  std::this_thread::sleep_for(300ms);  // connected and known before anything is routed
  add_contact("Leased");
  std::vector<std::string> msg;
  ASSERT_TRUE(eventually([&] {
    msg = holder.receive(50ms);
    return !msg.empty() && msg[0] == "MSG";
  })) << "the holder is served";
  const std::string id = msg[1];

  // Another consumer with the deployment's keys tries to settle it: ack, then nack it as
  // permanent (which would dead-letter it), then give it back.
  RawPeer other(ctx_, zmq::socket_type::dealer, r.work_endpoint(), allowed_pair(),
                keys_.server_public);
  other.send({"HELLO", "q", "other", "10"});
  other.send({"ACK", id});
  other.send({"NACK", id, "1", "permanent", "forged", "other"});
  other.send({"RELEASE", id});
  ASSERT_TRUE(eventually([&] { return r.metrics().foreign_settlements >= 3; }));
  std::this_thread::sleep_for(200ms);  // a settle round would have run by now
  EXPECT_EQ(r.metrics().acked, 0u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM queue_messages"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 0);

  holder.send({"ACK", id});
  EXPECT_TRUE(eventually([&] { return r.metrics().acked == 1; }));
  EXPECT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM queue_messages") == 0; }));
}

TEST(CurveKeysFile, ParsesTheGeneratedFileAndRefusesMismatchedOrMalformedKeys) {
  const CurveKeys k = CurveKeys::parse(CurveKeys::generate());
  EXPECT_EQ(k.server_public.size(), 40u);
  EXPECT_EQ(k.client_secret.size(), 40u);
  const CurveKeys other = CurveKeys::parse(CurveKeys::generate());
  auto text = [](const std::string& sp, const std::string& ss) {
    return "server-public " + sp + "\nserver-secret " + ss + "\n";
  };
  EXPECT_NO_THROW(CurveKeys::parse(text(k.server_public, k.server_secret)));
  try {
    CurveKeys::parse(text(k.server_public, other.server_secret));
    ADD_FAILURE() << "a public key that is not its secret's was accepted";
  } catch (const ValidationError& e) {
    EXPECT_EQ(std::string(e.what()).find(other.server_secret), std::string::npos)
        << "no secret in the message";
  }
  EXPECT_THROW(CurveKeys::parse("server-public short\n"), ValidationError);
  EXPECT_THROW(CurveKeys::parse("client-public " + k.client_public + "\n"), ValidationError);
  EXPECT_THROW(CurveKeys::parse("color blue\n"), ValidationError);
}

}  // namespace
}  // namespace banyan::test
