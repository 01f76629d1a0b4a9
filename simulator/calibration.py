"""The US short-drama market the simulator reproduces: reference figures and model parameters.

Reference figures (REFERENCE) are what the calibration report checks; parameters (the rest)
are the knobs that produce them. simulator/CALIBRATION.md explains each and where it applies.
All money is real-world: prices, eCPM and CPM per viewer, and production costs per title. The
simulated audience is a sample of the audience a real catalog is made for; each run says how
large (`World.audience_scale`, sent as `sim_audience_scale` on `script_created`), so that the
warehouse can put revenue and spend beside real production costs (`titles.audience_scale`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    name: str
    value: float
    tolerance: float          # absolute, in the figure's own unit
    unit: str
    where: str
    min_days: float = 0.0     # checked only over at least this much data
    se: str = ""              # the figure's standard error in the report: the tolerance is at least 2 of them
    lifetime: bool = False    # checked on a sampled year (`python -m simulator lifetime`), not on a run


REFERENCE = (
    Reference("us_revenue_share", 0.648, 0.06, "share",
              "US share of revenue (IAP + ads) of all overseas revenue: US$151M of US$233M in 2024",
              se="us_revenue_share_se"),
    Reference("female_45plus_payer_share", 0.50, 0.08, "share",
              "women aged 45+ among payers (the main paying group, about half of payers)"),
    Reference("female_45plus_paid_7d", 0.50, 0.08, "share",
              "women 45+ who reached a paywall in the data's first day and paid within 7 days (the study's "
              "\"50% payment rate\")", min_days=6.9),
    Reference("free_episodes", 5, 0, "episodes", "every title launches with the first five episodes free"),
    Reference("first_paywall_episode", 6, 0, "episode", "the paywall is shown first at episode 6"),
    Reference("marketing_share", 0.70, 0.06, "share",
              "teaser spend ÷ (teaser spend + production cost amortized over a year)"),
    Reference("ai_script_share", 0.62, 0.08, "share", "titles whose script origin is `ai` (over 60%)"),
    Reference("virtual_actor_episode_cost_usd", 50_000, 5_000, "US$",
              "production cost per episode of original AI titles (all made with virtual actors)"),
    Reference("hit_title_cost_usd", 200_000, 20_000, "US$", "production cost of the hit (the top-revenue title)"),
    Reference("actor_day_rate_usd", 1_500, 1, "US$",
              "third-tier actor day rate inside the episode cost of original human-shot titles"),
    Reference("hit_lifetime_return", 125, 15, "×",
              "the hit's revenue over a year at the full audience ÷ its cost (US$25M ÷ US$200k)", lifetime=True),
)

# --- the market: real US$ amounts per year ---------------------------------------------------
US_REVENUE_2024_USD = 151e6
US_SHARE_OF_OVERSEAS = 0.648
OVERSEAS_REVENUE_USD = US_REVENUE_2024_USD / US_SHARE_OF_OVERSEAS
MARKETING_SHARE = 0.70
AMORTIZATION_DAYS = 365                       # a title's production cost is spread over a year
VIRTUAL_ACTOR_EPISODE_USD = 50_000
HIT_TITLE_COST_USD = 200_000
HIT_RETURN_MULTIPLE = 125                     # US$200k → US$25M over its life
HIT_POPULARITY_DAYS = 46.0                    # the hit's draw decays as exp(-age / this) against fresher titles
LIFETIME_DAYS = 365                           # a title's life (and its production cost's amortization)
LIFETIME_SAMPLE_AGES = (0, 1, 2, 4, 7, 10, 14, 21, 30, 45, 60, 90, 120, 180, 240, 300, 365)
ACTOR_DAY_RATE_USD = 1_500                    # third-tier actors
HUMAN_EPISODE_CAST = 4                        # actors per human-shot episode
HUMAN_EPISODE_ACTOR_DAYS = 0.5                # shoot days per episode per actor
HUMAN_EPISODE_OTHER_USD = 1_700               # crew, location, editing per episode

# --- audience ----------------------------------------------------------------------------------
GENDERS = (("female", 0.64), ("male", 0.33), ("other", 0.02), ("unknown", 0.01))
AGE_BANDS = (("18-24", 0.10), ("25-34", 0.17), ("35-44", 0.21), ("45-54", 0.26), ("55+", 0.24), ("unknown", 0.02))
COUNTRIES = (("US", 0.55), ("GB", 0.08), ("CA", 0.07), ("AU", 0.05), ("PH", 0.08), ("DE", 0.05),
             ("BR", 0.05), ("MX", 0.04), ("IN", 0.03))
# Propensity to pay, relative: women 45+ pay about twice as often as everyone else; outside
# the US viewers pay (and ads earn) about two thirds as much, which puts the US at 64.8%.
FEMALE_45PLUS_PAY_MULTIPLIER = 2.5
NON_US_MONEY_MULTIPLIER = 0.66

# --- distribution: teasers on TikTok-like channels --------------------------------------------
CHANNELS = (("tiktok", 0.45), ("instagram", 0.2), ("youtube", 0.15), ("facebook", 0.15), ("other", 0.05))
TEASER_CPM_USD = 18.0                         # cost per 1000 teaser impressions
TEASER_VIEW_RATE = 0.55                       # views per impression
HOOK_RATE = 0.38                              # views watched ≥ 3 s (the golden three seconds)
TEASER_CTR = 0.03                             # clicks per impression
INSTALL_PER_CLICK = 0.35                      # → CPI ≈ US$1.7

# "Value co-creation": now and then a teaser takes off and a title's audience surges; the
# platform's re-create signal (streams/trends.py) turns that into a sequel (the studio's answer).
VIRAL_EVERY_HOURS = 6.0                       # a viral moment every 3-9 hours, on a title other than the hit
VIRAL_SHARE_OF_DAY = 0.006                    # organic installs for that title, as a share of a day's new users
VIRAL_MIN_USERS = 30                          # (at least this many) ...
VIRAL_MINUTES = 10                            # ... over this many minutes

# --- viewing -----------------------------------------------------------------------------------
FREE_EPISODES = 5
EPISODE_SECONDS = (60, 120)                   # 1–2 minute vertical episodes
NEXT_EPISODE_RATE = 0.86                      # chance to go on to the next episode in a session
EXIT_INSIDE_EPISODE = 0.12                    # exits before the end of an episode
SESSIONS_PER_USER_MEAN = 3.2                  # sessions over a user's life (geometric)
DAYS_BETWEEN_SESSIONS = 1.3                   # mean, exponential
STARTUP_MS_MEDIAN = 650
REBUFFER_CHANCE = 0.08

# --- money -------------------------------------------------------------------------------------
BASE_PAY_RATE = 0.115                         # share of viewers reaching the paywall who pay
UNLOCK_COINS = 60                             # ≈ US$0.35–0.55 an episode
COIN_PACKS = ((4.99, 500), (9.99, 1100), (19.99, 2400))
WEEKLY_SUB_USD, YEARLY_SUB_USD = 19.99, 199.99
WEEKLY_SUB_SHARE = 0.995                      # of subscriptions bought; a yearly one is rare (and heavy)
PAY_METHODS = (("coins", 0.62), ("subscription", 0.38))
REWARDED_AD_SHARE = 0.45                      # of non-payers at the paywall who watch an ad to unlock
ECPM_USD = {"rewarded": 14.0, "interstitial": 8.0, "banner": 0.8}
INTERSTITIAL_EVERY = 3                        # episodes between interstitials for non-subscribers

# --- feedback ----------------------------------------------------------------------------------
LIKE_RATE, SHARE_RATE, COMMENT_RATE, RATING_RATE = 0.08, 0.02, 0.015, 0.03

# --- content -----------------------------------------------------------------------------------
ORIGINS = (("ai", 0.62), ("human", 0.18), ("hybrid", 0.20))

# --- re-create: the studio's answer to a signal is a sequel ------------------------------------
# "AI quickly generates massive amounts of scripts ... virtual actors ... can produce quickly and
# cheaply"; AI storyboarding "boost[s] the filming efficiency by 300%": a sequel reuses its
# parent's world and virtual cast, so its episodes cost a quarter of a new production's.
SEQUEL_COST_SHARE = 0.25
SEQUEL_EPISODES = (20, 40)
SEQUEL_WEIGHT = 3.0                           # popularity, against the hit's 6 and 1/(1+n)^0.6 for the rest
STUDIO_REPEAT_DAYS = 7                        # one sequel per title a week, none in its first week

# --- the release slate: new originals launched all through a run (issue 23, simulator/SLATE.md) ----
# A new title's latent appeal is lognormal with mean 1: the product of many independent factors
# (premise, cast, script, timing), which is what makes box-office outcomes lognormal in body and
# heavy in tail (De Vany & Walls 1999; Sornette's multiplicative growth). It is never sent: it
# works through behaviour, each rate moved by a power of it, and the hit emerges from the draws.
SLATE_PER_DAY = 0.0                           # new titles a day (0: the calibrated catalog only)
APPEAL_SIGMA = 1.5                            # lognormal σ of appeal: 1 title in 20 draws ≥ 3.8× the mean
SLATE_WEIGHT = 4.0                            # a new title's draw at appeal 1 (the hit's is 6): new releases lead
SLATE_NOVELTY_DAYS = 12.0                     # a new title's draw decays as exp(-age / this)
APPEAL_HOOK = 0.35                            # teaser hook rate × appeal^this (capped at every view)
APPEAL_BINGE = 0.35                           # the chance to leave an episode or a session × appeal^-this
APPEAL_PAY = 0.6                              # pay propensity at the paywall × appeal^this (a gripping title sells)
APPEAL_FEEDBACK = 0.5                         # likes, shares, comments × appeal^this
# Word of mouth is Bass diffusion (Bass 1969) in a branching form: each share of a slate title brings
# WORD_OF_MOUTH × appeal^APPEAL_WOM organic installs on average (a geometric count), times the share
# of its word-of-mouth market (WOM_MARKET_DAYS of the app's new users) not reached yet. Below
# appeal ~3 a title's audience brings under one viewer per viewer and word of mouth stays small;
# the most appealing titles spread on themselves until their market is used up: a hit is a title
# whose audience mostly comes free (paid installs alone return about 4×, not 10×).
WORD_OF_MOUTH = 0.5                           # organic installs per share at appeal 1, the market untouched
APPEAL_WOM = 1.0                              # × appeal^this: a gripping clip converts more of who sees it
WOM_MARKET_DAYS = 20.0                        # a title's word-of-mouth market, in days of the app's new users
STUDIO_BOOST = 3.0                            # a likely hit's or payer's teaser budget, × its share
STUDIO_BOOST_ABOVE = 0.5                      # P(pays back) from which the studio boosts a title
STUDIO_STOP_BELOW = 0.1                       # P(pays back) under which it stops buying installs for it
TRUTH_DAYS = 30                               # a title pays back if its first 30 days' revenue covers its cost
