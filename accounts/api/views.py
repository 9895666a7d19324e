"""`/api/v1/users/` and `/api/v1/teams/`: the directory integrations need to map owners (read only)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers, viewsets

from ..models import Team

User = get_user_model()


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "full_name", "email", "role", "team", "is_active"]


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "manager", "region"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = UserSerializer
    queryset = User.objects.order_by("username", "id")
    filterset_fields = ["team", "role", "is_active"]


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    queryset = Team.objects.order_by("name", "id")
