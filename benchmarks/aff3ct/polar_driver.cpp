// Minimal driver around AFF3CT 3.0.2's FAST polar decoders, for a side-by-side timing with
// noisyhw (benchmarks/bench_polar_aff3ct.py). It decodes LLRs written by noisyhw, so both
// sides decode the very same frames, and reports the decoder's CPU time only.
//
//   polar_driver N K L CRC FROZEN LLR REF
//     N, K      code length and information-set size (K counts the CRC bits, as in AFF3CT)
//     L         list size of the CA-SCL decoders
//     CRC       AFF3CT polynomial name (e.g. 16-CCITT) or "none"
//     FROZEN    text file: N characters '0'/'1' (1 = frozen)
//     LLR       raw float32, F x N, LLR = log P(0)/P(1)
//     REF       raw uint8, F x K: the payload on the information positions (systematic code)
// Then reads decoder names on stdin, one a line: sc_seq, sc_intra (Fast-SSC SC, static API,
// as the simulator's FAST SC without / with --dec-simd INTRA), cascl_seq, cascl_intra
// (Decoder_polar_SCL_fast_CA_sys, dynamic API, as the simulator's FAST SCL with a CRC). For each
// it decodes all F frames once and prints "<cpu seconds> <frame errors> <frames>"; a line
// "flags NAME" decodes them and prints one character per frame instead ('1' = frame error).
// The node types are the simulator's default "{R0,R0L,R1,REP,REPL,SPC}".
#include <time.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "Module/CRC/Polynomial/CRC_polynomial.hpp"
#include "Module/Decoder/Polar/SC/Decoder_polar_SC_fast_sys.hpp"
#include "Module/Decoder/Polar/SCL/CRC/Decoder_polar_SCL_fast_CA_sys.hpp"
#include "Tools/Code/Polar/API/API_polar_dynamic_intra.hpp"
#include "Tools/Code/Polar/API/API_polar_dynamic_seq.hpp"
#include "Tools/Code/Polar/API/API_polar_static_intra_32bit.hpp"
#include "Tools/Code/Polar/API/API_polar_static_seq.hpp"
#include "Tools/Code/Polar/Nodes_parser.hpp"

using namespace aff3ct;
using B = int32_t;
using Q = float;

static double cpu_seconds()
{
	timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

template <class T>
static std::vector<T> read_raw(const std::string &path)
{
	std::ifstream f(path, std::ios::binary | std::ios::ate);
	if (!f) { std::cerr << "cannot read " << path << std::endl; std::exit(2); }
	const auto bytes = (size_t)f.tellg();
	f.seekg(0);
	std::vector<T> v(bytes / sizeof(T));
	f.read(reinterpret_cast<char *>(v.data()), (std::streamsize)(v.size() * sizeof(T)));
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 8) { std::cerr << "usage: polar_driver N K L CRC FROZEN LLR REF" << std::endl; return 2; }
	const int N = std::stoi(argv[1]), K = std::stoi(argv[2]), L = std::stoi(argv[3]);
	const std::string crc_name = argv[4];

	std::vector<bool> frozen(N);
	{
		std::ifstream f(argv[5]);
		std::string s;
		f >> s;
		if ((int)s.size() != N) { std::cerr << "frozen file: " << s.size() << " != N" << std::endl; return 2; }
		for (int i = 0; i < N; i++) frozen[i] = s[i] == '1';
	}
	const auto llr = read_raw<float>(argv[6]);
	const auto ref8 = read_raw<uint8_t>(argv[7]);
	const int F = (int)(llr.size() / N);
	if ((size_t)F * N != llr.size() || ref8.size() != (size_t)F * K)
	{ std::cerr << "LLR / REF sizes do not match F x N / F x K" << std::endl; return 2; }
	std::vector<B> ref(ref8.begin(), ref8.end());

	std::unique_ptr<module::CRC<B>> crc;
	if (crc_name != "none")
	{
		const int r = module::CRC_polynomial<B>::get_size(crc_name);
		crc.reset(new module::CRC_polynomial<B>(K - r, crc_name, r));
		int ok = 0;  // the payloads noisyhw encoded must pass AFF3CT's CRC: same polynomial and bit order
		for (int f = 0; f < F; f++) ok += crc->check(ref.data() + (size_t)f * K) ? 1 : 0;
		std::cerr << "payloads passing AFF3CT's CRC " << crc_name << ": " << ok << " / " << F << std::endl;
		if (ok != F) return 3;
	}

	int i0, i1;
	const std::string nodes = "{R0,R0L,R1,REP,REPL,SPC}";
	std::vector<std::unique_ptr<module::Decoder_SIHO<B, Q>>> decs;
	std::vector<std::string> names;
	auto add = [&](const std::string &name, module::Decoder_SIHO<B, Q> *d) {
		decs.emplace_back(d);
		names.push_back(name);
	};
	{
		auto p = tools::Nodes_parser<>::parse_ptr(nodes, i0, i1);
		add("sc_seq", new module::Decoder_polar_SC_fast_sys<B, Q, tools::API_polar_static_seq<B, Q>>(K, N, frozen, p, i0, i1));
		add("sc_intra", new module::Decoder_polar_SC_fast_sys<B, Q, tools::API_polar_static_intra_32bit<B, Q>>(K, N, frozen, p, i0, i1));
		if (crc)
		{
			add("cascl_seq", new module::Decoder_polar_SCL_fast_CA_sys<B, Q, tools::API_polar_dynamic_seq<B, Q>>(K, N, L, frozen, p, i0, i1, *crc));
			add("cascl_intra", new module::Decoder_polar_SCL_fast_CA_sys<B, Q, tools::API_polar_dynamic_intra<B, Q>>(K, N, L, frozen, p, i0, i1, *crc));
		}
		for (auto q : p) delete q;
	}

	std::vector<B> out((size_t)F * K);
	std::cout << "ready " << F << std::endl;
	std::string cmd;
	while (std::getline(std::cin, cmd))
	{
		const bool flags = cmd.rfind("flags ", 0) == 0;
		if (flags) cmd = cmd.substr(6);
		size_t j = 0;
		while (j < names.size() && names[j] != cmd) j++;
		if (j == names.size()) { std::cout << "unknown " << cmd << std::endl; continue; }
		auto &d = *decs[j];
		const double t0 = cpu_seconds();
		// one frame per call, as the simulator runs them (-F 1: the CA decoders' CRC check does
		// not support more frames per call)
		for (int f = 0; f < F; f++)
			d.decode_siho(llr.data() + (size_t)f * N, out.data() + (size_t)f * K);
		const double t = cpu_seconds() - t0;
		int errors = 0;
		std::string flag(F, '0');
		for (int f = 0; f < F; f++)
			for (int k = 0; k < K; k++)
				// the FAST decoders write a decided 1 as any nonzero word (the sign bit)
				if ((out[(size_t)f * K + k] != 0) != (ref[(size_t)f * K + k] != 0)) { errors++; flag[f] = '1'; break; }
		if (flags) std::cout << flag << std::endl;
		else       std::cout << t << " " << errors << " " << F << std::endl;
	}
	return 0;
}
