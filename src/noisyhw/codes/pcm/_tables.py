"""Syndrome block codes found by random search (scripts/pcm_search_tables.py; the alpha = 1
entries with b >= 16 by coverage searches: scripts/pcm_search_alpha1.py for (1, 3, 2), (1, 4, 2), (1, 4, 3)).

(alpha, beta, p) -> (b cells, r syndrome bits, columns). Each entry is only a candidate: the
safety game is solved again whenever a SyndromeCode is built, and tests rebuild every entry.
"""

BLOCK_CODES: dict[tuple[int, int, int], tuple[int, int, list[int]]] = {
    (1, 2, 1): (6, 4, [5, 2, 3, 12, 9, 1]),
    (1, 3, 1): (7, 4, [4, 6, 2, 7, 5, 9, 12]),
    (1, 3, 2): (
        18,
        14,
        [
            13295,
            1404,
            536,
            3880,
            2972,
            14242,
            14241,
            9538,
            646,
            1543,
            5421,
            7096,
            10178,
            7849,
            4339,
            2618,
            707,
            12035,
        ],
    ),
    (1, 4, 1): (8, 4, [4, 14, 10, 11, 5, 2, 1, 3]),
    (1, 4, 2): (
        17,
        12,
        [
            1203,
            2803,
            2571,
            2447,
            2004,
            3752,
            3092,
            417,
            290,
            367,
            2019,
            3973,
            337,
            1592,
            3380,
            914,
            3583,
        ],
    ),
    (1, 4, 3): (
        20,
        17,
        [
            120512,
            67085,
            98981,
            114471,
            4569,
            83178,
            107157,
            124341,
            32667,
            65306,
            94179,
            55486,
            47560,
            108488,
            33685,
            59716,
            84388,
            72036,
            101291,
            3613,
        ],
    ),
    (2, 1, 1): (2, 1, [1, 1]),
    (2, 2, 1): (6, 2, [2, 3, 1, 2, 3, 1]),
    (2, 2, 2): (6, 4, [5, 2, 3, 12, 9, 1]),
    (2, 2, 3): (5, 4, [14, 1, 8, 10, 13]),
    (2, 3, 1): (4, 1, [1, 1, 1, 1]),
    (2, 3, 2): (7, 4, [4, 6, 2, 7, 5, 9, 12]),
    (2, 3, 3): (4, 3, [3, 6, 7, 2]),
    (2, 3, 4): (8, 6, [25, 44, 33, 22, 42, 2, 32, 27]),
    (2, 4, 1): (5, 1, [1, 1, 1, 1, 1]),
    (2, 4, 2): (3, 2, [1, 2, 3]),
    (2, 4, 3): (7, 4, [11, 12, 8, 7, 15, 2, 14]),
    (2, 4, 4): (8, 6, [57, 15, 33, 5, 9, 41, 43, 22]),
    (3, 1, 1): (3, 1, [1, 1, 1]),
    (3, 1, 2): (3, 2, [1, 2, 3]),
    (3, 2, 1): (5, 1, [1, 1, 1, 1, 1]),
    (3, 2, 2): (5, 2, [1, 1, 2, 2, 3]),
    (3, 2, 3): (1, 1, [1]),
    (3, 2, 4): (4, 3, [3, 6, 7, 2]),
    (3, 3, 2): (4, 1, [1, 1, 1, 1]),
    (3, 3, 3): (5, 3, [3, 1, 2, 4, 6]),
    (3, 3, 4): (5, 3, [7, 1, 2, 4, 6]),
    (3, 4, 2): (5, 1, [1, 1, 1, 1, 1]),
    (3, 4, 3): (3, 2, [1, 2, 3]),
    (3, 4, 4): (3, 2, [1, 2, 3]),
    (4, 1, 1): (4, 1, [1, 1, 1, 1]),
    (4, 1, 2): (2, 1, [1, 1]),
    (4, 1, 3): (4, 3, [3, 6, 7, 2]),
    (4, 2, 2): (3, 1, [1, 1, 1]),
    (4, 2, 3): (3, 1, [1, 1, 1]),
    (4, 2, 4): (1, 1, [1]),
    (4, 3, 4): (3, 2, [1, 2, 3]),
    (4, 4, 4): (3, 2, [1, 2, 3]),
}

#: Linear t-write WOM groups for StaggeredWOMCode: (t, d) -> columns (d-bit ints). For g <= 12
#: the smallest g found by the exhaustive search in scripts/pcm_search_wom.py (no smaller linear
#: code exists for that (t, d); WLOG the first d columns are the unit vectors). Re-certified
#: (game.solve_wom, or game.two_write_first for larger 2-write groups) whenever a code is built.
#: Sum-rate S_t = t d / g.
WOM_CODES: dict[tuple[int, int], list[int]] = {
    (1, 1): [1],  # a plain cell: the round robin
    (2, 2): [1, 2, 3],  # Rivest-Shamir in linear form, S_2 = 4/3
    # S_2 = 26/19 = 1.368 > 4/3: found by `scripts/pcm_search_wom2.py --climb 13 6 540 3`
    # (hill-climb, not exhaustive); certified by game.two_write_first on every build
    (2, 13): [
        *(1 << k for k in range(13)),  # unit vectors
        *(7215, 4511, 5833, 2909, 4001, 4581),
    ],
    (3, 4): [1, 2, 4, 8, 1, 2, 4, 9, 14],  # S_3 = 4/3
    (4, 3): [1, 2, 4, 1, 3, 5, 6, 7],  # S_4 = 3/2
}
