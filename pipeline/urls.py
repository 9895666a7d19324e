from django.urls import path

from . import views

app_name = "pipeline"

urlpatterns = [
    path("", views.board, name="board"),
    path("<int:pipeline_id>/", views.board, name="board_pipeline"),
    path("<int:pipeline_id>/columns/<int:stage_id>/more/", views.board_column_more, name="column_more"),
    path("deals/<int:pk>/move/", views.board_move, name="move"),
    path("quick-add/", views.board_quick_add, name="quick_add"),
    path("quick-add/organizations/", views.organization_options, name="organization_options"),
]
