// The Lease's JSON and MicroTime, without a server.
#include <gtest/gtest.h>

#include "peregrine/ha/lease.hpp"

namespace peregrine::ha {
namespace {

TEST(LeaseJsonTest, RoundTripsEveryField) {
  LeaseRecord l;
  l.name = "market-a";
  l.namespace_name = "peregrine";
  l.resource_version = "12345";
  l.labels = {{"app.kubernetes.io/name", "peregrine"}};
  l.annotations = {{"peregrine.io/sync-standby", "trading-service-1"}};
  l.holder_identity = "trading-service-0";
  l.lease_duration_seconds = 15;
  l.acquire_time = "2026-12-07T01:54:21.123456Z";
  l.renew_time = "2026-12-07T01:54:23.000001Z";
  l.lease_transitions = 7;
  std::string error;
  auto back = decode_lease(encode_lease(l), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, l);
}

TEST(LeaseJsonTest, EncodesWhatTheApiServerExpects) {
  LeaseRecord l;
  l.name = "m";
  l.holder_identity = "a";
  l.lease_duration_seconds = 1;
  l.lease_transitions = 1;
  EXPECT_EQ(encode_lease(l),
            R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"m"},)"
            R"("spec":{"holderIdentity":"a","leaseDurationSeconds":1,"leaseTransitions":1}})");
}

TEST(LeaseJsonTest, ReadsALeaseAsTheServerSendsIt) {
  // A real answer of kube-apiserver v1.30.14 (managedFields and all), trimmed of nothing.
  const char* text = R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"trading-service-leader",)"
                     R"("namespace":"peregrine","uid":"5b0d","resourceVersion":"231","creationTimestamp":"2026-12-07T02:00:00Z",)"
                     R"("managedFields":[{"manager":"peregrine-ha","operation":"Update","apiVersion":"coordination.k8s.io/v1"}]},)"
                     R"("spec":{"holderIdentity":"trading-service-1","leaseDurationSeconds":15,)"
                     R"("acquireTime":"2026-12-07T02:00:01.000000Z","renewTime":"2026-12-07T02:00:03.500000Z","leaseTransitions":2}})";
  auto l = decode_lease(text);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->name, "trading-service-leader");
  EXPECT_EQ(l->namespace_name, "peregrine");
  EXPECT_EQ(l->resource_version, "231");
  EXPECT_EQ(l->holder_identity, "trading-service-1");
  EXPECT_EQ(l->lease_duration_seconds, 15);
  EXPECT_EQ(l->renew_time, "2026-12-07T02:00:03.500000Z");
  EXPECT_EQ(l->lease_transitions, 2);
}

TEST(LeaseJsonTest, ReadsALeaseWithNoSpecAsFree) {
  auto l = decode_lease(R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"x","resourceVersion":"1"},"spec":{}})");
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->holder_identity.empty());
  EXPECT_EQ(l->lease_transitions, 0);
}

TEST(LeaseJsonTest, RefusesWhatIsNotALease) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "not JSON"},
      {"{\"kind\":", "not JSON"},
      {"[]", "not a JSON object"},
      {R"({"kind":"Status","apiVersion":"v1","metadata":{}})", "kind is not Lease"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1beta1","metadata":{"name":"x"}})", "apiVersion"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1"})", "metadata missing"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{}})", "metadata.name missing"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":7}})", "metadata.name is not a string"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"x","annotations":{"a":1}}})", "metadata.annotations.a"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"x"},"spec":[]})", "spec is not an object"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"x"},"spec":{"leaseTransitions":"3"}})", "spec.leaseTransitions is not an integer"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"x"},"spec":{"leaseTransitions":4294967296}})", "spec.leaseTransitions is out of range"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"x"},"spec":{"leaseDurationSeconds":1.5}})", "spec.leaseDurationSeconds is not an integer"},
      {R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"x"},"spec":{"holderIdentity":true}})", "spec.holderIdentity is not a string"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(decode_lease(c.text, &error)) << c.text;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.text << " gave: " << error;
  }
}

TEST(LeaseJsonTest, FormatsMicroTimeInUtcWithSixDigits) {
  using namespace std::chrono;
  const system_clock::time_point t{seconds(1796608461) + microseconds(123)};
  EXPECT_EQ(format_micro_time(t), "2026-12-07T01:54:21.000123Z");
  EXPECT_EQ(format_micro_time(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_micro_time(system_clock::time_point{} - microseconds(1)), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace peregrine::ha
