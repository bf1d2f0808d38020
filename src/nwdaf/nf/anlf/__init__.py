"""NWDAF Analytics Logical Function: the analytics exposure (Nnwdaf_EventsSubscription, Nnwdaf_AnalyticsInfo)
fed by the analytics engines' results on the bus."""
