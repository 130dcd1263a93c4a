"""Serializers every resource shares: compact references to users and org units (an owner, a
head, a unit), always read from `select_related` columns, never a query per row."""

from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import OrgUnit, User


class UserRefSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "display_name"]
        read_only_fields = fields


class OrgUnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ["id", "name"]
        read_only_fields = fields
