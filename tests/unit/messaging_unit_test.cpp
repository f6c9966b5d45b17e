// Pure parts of the messaging layer: retry delays, event type patterns, the wire format.
#include <gtest/gtest.h>

#include "banyan/errors.hpp"
#include "banyan/messaging/message.hpp"
#include "banyan/messaging/retry_policy.hpp"
#include "messaging/queue_store.hpp"
#include "messaging/wire.hpp"

namespace banyan::messaging {
namespace {

using namespace std::chrono_literals;

TEST(RetryPolicy, DelaysGrowExponentiallyUpToTheCapAndJitterOnlyShortensThem) {
  RetryPolicy p;
  p.initial_delay = 100ms;
  p.max_delay = 1000ms;
  p.multiplier = 2.0;
  p.jitter = 0.5;
  EXPECT_EQ(p.delay_after(1, 0.0), 100ms);
  EXPECT_EQ(p.delay_after(2, 0.0), 200ms);
  EXPECT_EQ(p.delay_after(4, 0.0), 800ms);
  EXPECT_EQ(p.delay_after(5, 0.0), 1000ms);   // capped
  EXPECT_EQ(p.delay_after(30, 0.0), 1000ms);  // no overflow far out
  EXPECT_EQ(p.delay_after(2, 1.0), 100ms);    // at most half off
  EXPECT_EQ(p.delay_after(2, 0.5), 150ms);
}

TEST(RetryPolicy, ValidateNamesTheBadField) {
  auto field_of = [](RetryPolicy p) {
    try {
      p.validate();
    } catch (const ValidationError& e) {
      return e.field();
    }
    return std::string();
  };
  RetryPolicy ok;
  EXPECT_EQ(field_of(ok), "");
  RetryPolicy p = ok;
  p.max_attempts = 0;
  EXPECT_EQ(field_of(p), "max_attempts");
  p = ok;
  p.immediate_retries = -1;
  EXPECT_EQ(field_of(p), "immediate_retries");
  p = ok;
  p.max_delay = 1ms;
  EXPECT_EQ(field_of(p), "max_delay");
  p = ok;
  p.multiplier = 0.5;
  EXPECT_EQ(field_of(p), "multiplier");
}

TEST(ErrorClassOfAFailure, HandlersSayItOutrightAndBanyanErrorsByTheirCode) {
  // The handler's own word wins over the code it carries.
  EXPECT_EQ(classify(PermanentError("bad payload")), ErrorClass::kPermanent);
  EXPECT_EQ(classify(PermanentError("converted already", ErrorCode::kConflict)),
            ErrorClass::kPermanent);
  EXPECT_EQ(classify(TransientError("billing down")), ErrorClass::kTransient);
  EXPECT_EQ(classify(TransientError("not replicated yet", ErrorCode::kNotFound)),
            ErrorClass::kTransient);
  // Banyan's errors: what no retry changes is permanent, the rest may pass.
  EXPECT_EQ(classify(ValidationError("x")), ErrorClass::kPermanent);
  EXPECT_EQ(classify(NotFound("x")), ErrorClass::kPermanent);
  EXPECT_EQ(classify(PermissionDenied("x")), ErrorClass::kPermanent);
  EXPECT_EQ(classify(Conflict("x")), ErrorClass::kTransient);
  EXPECT_EQ(classify(Unavailable("x")), ErrorClass::kTransient);
  EXPECT_EQ(classify(std::runtime_error("anything else")), ErrorClass::kTransient);
}

TEST(ErrorClassOfAFailure, MessagingErrorsAreErrorsOfTheOneTaxonomy) {
  try {
    throw PermanentError("converted already", ErrorCode::kConflict);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConflict);
    EXPECT_STREQ(e.what(), "converted already");
  }
  try {
    throw TransientError("billing down");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  }
  EXPECT_EQ(PermanentError("x").code(), ErrorCode::kValidation);
}

TEST(EventTypePattern, MatchesExactTypesPrefixesAndEverything) {
  using detail::type_matches;
  EXPECT_TRUE(type_matches("deal.created", "deal.created"));
  EXPECT_FALSE(type_matches("deal.created", "deal.created_x"));
  EXPECT_TRUE(type_matches("deal.*", "deal.stage_changed"));
  EXPECT_FALSE(type_matches("deal.*", "deal."));
  EXPECT_FALSE(type_matches("deal.*", "dealer.created"));
  EXPECT_TRUE(type_matches("*", "anything.at_all"));
}

TEST(Wire, AnEventSurvivesTheRoundTripAndMalformedFramesAreRejected) {
  store::DomainEvent e;
  e.sequence = 42;
  e.id = "0123456789abcdef0123456789abcdef";
  e.type = "contact.created";
  e.aggregate_type = ObjectType::kContact;
  e.aggregate_id = 7;
  e.aggregate_version = 3;
  e.occurred_at = Timestamp(std::chrono::microseconds(1700000000123456));
  e.actor = 5;
  e.payload = R"({"first_name":"Ada"})";
  detail::Frames f{"topic"};
  detail::append_event(f, e);
  store::DomainEvent back;
  ASSERT_TRUE(detail::parse_event(f, 1, back));
  EXPECT_EQ(back, e);
  e.actor.reset();
  f = {"topic"};
  detail::append_event(f, e);
  ASSERT_TRUE(detail::parse_event(f, 1, back));
  EXPECT_EQ(back, e);
  auto broken = f;
  broken[1] = "12x" + f[1].substr(f[1].find('\x1f'));  // sequence
  EXPECT_FALSE(detail::parse_event(broken, 1, back));
  broken = f;
  broken[1].replace(broken[1].find("contact\x1f"), 7, "planet");  // aggregate type
  EXPECT_FALSE(detail::parse_event(broken, 1, back));
  broken = f;
  broken[1] +=
      "\x1f"
      "9";  // a field too many
  EXPECT_FALSE(detail::parse_event(broken, 1, back));
  broken = f;
  broken[1] = broken[1].substr(0, broken[1].rfind('\x1f'));  // a field too few
  EXPECT_FALSE(detail::parse_event(broken, 1, back));
  broken = f;
  broken.pop_back();
  EXPECT_FALSE(detail::parse_event(broken, 1, back));
}

}  // namespace
}  // namespace banyan::messaging
