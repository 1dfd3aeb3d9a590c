// The DPDK module boundary (peregrine/ingress/dpdk_module.hpp): the loader's refusals, the
// factory's ABI check, and the real peregrine-dpdk.so on net_ring0 (its TX feeds its own RX):
// a reply sent through the module comes back through its lcore, parsed, to the host.

#include "peregrine/ingress/dpdk_module.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace peregrine::ingress::dpdk {
namespace dpdk_module_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

std::string error_of(const std::string& path, const DpdkSettings& s, LcoreHost& host) {
  try {
    (void)open_dpdk_module(path, s, host);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(opened)";
}

// Records what the lcore hands over; the test thread waits on it with a bound.
class RecordingHost final : public LcoreHost {
 public:
  void on_lcore_start() noexcept override {
    std::lock_guard lock(mutex_);
    started_on = std::this_thread::get_id();
  }
  void on_datagram(const UdpDatagram& d, std::uint64_t now_ns) noexcept override {
    std::lock_guard lock(mutex_);
    addr = d.addr;
    payloads.emplace_back(d.payload.begin(), d.payload.end());
    last_now_ns = now_ns;
    arrived_.notify_all();
  }
  void on_lcore_stop() noexcept override {
    std::lock_guard lock(mutex_);
    stopped = true;
  }
  bool wait_for_datagrams(std::size_t n, std::chrono::seconds bound) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, bound, [&] { return payloads.size() >= n; });
  }

  std::mutex mutex_;
  std::thread::id started_on;
  UdpAddressing addr;
  std::vector<std::vector<std::uint8_t>> payloads;
  std::uint64_t last_now_ns = 0;
  bool stopped = false;

 private:
  std::condition_variable arrived_;
};

TEST(DpdkModuleTest, AMissingModuleIsRefusedNamingThePathAndTheLoadersReason) {
  const testing::TempDir dir("dpdk-module");
  const std::string path = (dir.path() / kDpdkModuleFile).string();
  RecordingHost host;
  EXPECT_EQ(error_of(path, DpdkSettings{}, host), "DPDK ingress requested but " + path + " could not be loaded: " +
                                                      path + ": cannot open shared object file: No such file or directory");
}

TEST(DpdkModuleTest, AFileThatIsNotASharedObjectIsRefused) {
  const testing::TempDir dir("dpdk-module");
  const std::string path = (dir.path() / kDpdkModuleFile).string();
  std::ofstream(path) << std::string(200, 'x');
  RecordingHost host;
  const std::string e = error_of(path, DpdkSettings{}, host);
  EXPECT_EQ(e.rfind("DPDK ingress requested but " + path + " could not be loaded: ", 0), 0u) << e;
  EXPECT_NE(e.find("invalid ELF header"), std::string::npos) << e;
}

TEST(DpdkModuleTest, ModulePathIsBesideTheRunningBinary) {
  const std::string p = dpdk_module_beside_binary();
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
  EXPECT_EQ(p, self + "/" + std::string(kDpdkModuleFile));
}

#ifdef PEREGRINE_DPDK_MODULE

TEST(DpdkModuleTest, TheModuleRefusesABinaryOfAnotherAbi) {
  void* handle = dlopen(PEREGRINE_DPDK_MODULE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  void* symbol = dlsym(handle, kDpdkOpenSymbol);
  ASSERT_NE(symbol, nullptr) << dlerror();
  const auto open = reinterpret_cast<decltype(&peregrine_dpdk_open)>(symbol);
  const DpdkSettings s;
  RecordingHost host;
  std::string error;
  EXPECT_EQ(open(kDpdkModuleAbi + 1, &s, &host, &error), nullptr);
  EXPECT_EQ(error, "dpdk: module ABI " + std::to_string(kDpdkModuleAbi) + ", the binary wants " +
                       std::to_string(kDpdkModuleAbi + 1) + ": peregrine-dpdk.so is from another build");
  // Only the factory is exported: the port's own classes stay inside the module.
  EXPECT_EQ(dlsym(handle, "_ZN9peregrine7ingress4dpdk8DpdkPortC1ERKNS1_12DpdkSettingsE"), nullptr);
}

TEST(DpdkModuleTest, AFrameSentThroughTheModuleComesBackThroughItsLcoreToTheHost) {
  DpdkSettings s;
  s.eal_args = {"--no-huge", "--no-pci", "-m", "256", "-l", "0", "--no-shconf", "--log-level", "error", "--vdev=net_ring0"};
  s.local_ip = 0x0A000001;
  s.udp_port = 9010;
  s.mbufs = 1023;
  s.idle = agent::IdleStrategyKind::BackOff;
  RecordingHost host;
  std::unique_ptr<DpdkIngress> port = open_dpdk_module(PEREGRINE_DPDK_MODULE, s, host);
  EXPECT_EQ(port->name(), "net_ring0");
  EXPECT_EQ(port->settings().udp_port, 9010);
  std::string error;
  const std::optional<std::string> where = port->start(1'000'000'000, error);
  ASSERT_TRUE(where) << error;
  EXPECT_EQ(*where, "registered thread");  // -l 0: EAL has no worker lcore

  const std::vector<std::uint8_t> payload{'h', 'e', 'l', 'l', 'o'};
  UdpAddressing to_us{port->mac(), port->mac(), 0x0A000002, s.local_ip, 40000, s.udp_port};
  UdpAddressing elsewhere = to_us;
  elsewhere.dst_port = 9011;
  ASSERT_TRUE(port->send(elsewhere, payload));  // parsed and dropped as not for us
  ASSERT_TRUE(port->send(to_us, payload));
  port->flush_tx();
  ASSERT_TRUE(host.wait_for_datagrams(1, std::chrono::seconds(10)));
  port->stop();

  const std::lock_guard lock(host.mutex_);
  EXPECT_NE(host.started_on, std::this_thread::get_id());
  EXPECT_TRUE(host.stopped);
  ASSERT_EQ(host.payloads.size(), 1u);
  EXPECT_EQ(host.payloads[0], payload);
  EXPECT_EQ(host.addr.src_ip, 0x0A000002u);
  EXPECT_EQ(host.addr.src_port, 40000);
  EXPECT_GE(host.last_now_ns, 1'000'000'000u);  // on the clock start() anchored
  const DpdkCounters& c = port->counters();
  EXPECT_EQ(c.tx_packets.load(), 2u);
  EXPECT_EQ(c.tx_dropped.load(), 0u);
  EXPECT_EQ(c.rx_packets.load(), 2u);
  EXPECT_EQ(c.frame_drops[static_cast<std::size_t>(FrameDrop::NotForUs)].load(), 1u);
  EXPECT_EQ(port->nic_stats().ipackets, 2u);
}

#endif

}  // namespace dpdk_module_test
}  // namespace peregrine::ingress::dpdk
